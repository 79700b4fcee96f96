#include "agent/numa_binding.h"

#include <gtest/gtest.h>

namespace dstrain::agent {
namespace {

proto::NumaNode Node(int id, std::vector<int> cpus) {
  proto::NumaNode n;
  n.set_id(id);
  for (int c : cpus) n.add_cpus(c);
  return n;
}

// Two sockets of 4 CPUs each, plus a memory-only node (CXL).
proto::NodeInventory TwoSockets() {
  proto::NodeInventory inv;
  *inv.add_numa_nodes() = Node(1, {4, 5, 6, 7});
  *inv.add_numa_nodes() = Node(0, {0, 1, 2, 3});
  *inv.add_numa_nodes() = Node(2, {});
  return inv;
}

const std::vector<int> kAll = {0, 1, 2, 3, 4, 5, 6, 7};

std::vector<int> Nodes(const std::vector<RankBinding>& b) {
  std::vector<int> out;
  for (const RankBinding& r : b) out.push_back(r.numa_node);
  return out;
}

TEST(NumaBindingTest, CpuRanksFillTheNodesInContiguousBlocks) {
  const auto b = PlanNumaBinding(TwoSockets(), "auto", "cpu", 4, kAll);
  EXPECT_EQ(Nodes(b), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(b[0].cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(b[3].cpus, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_EQ(DescribeBinding(b[3]), "numa node 1, CPUs 4-7");
  // More ranks than nodes: every rank lands on a node with CPUs.
  EXPECT_EQ(Nodes(PlanNumaBinding(TwoSockets(), "auto", "cpu", 3, kAll)),
            (std::vector<int>{0, 0, 1}));
  // Fewer: one rank keeps every core (its intra-op threads use them).
  EXPECT_EQ(Nodes(PlanNumaBinding(TwoSockets(), "auto", "cpu", 1, kAll)),
            (std::vector<int>{-1}));
}

TEST(NumaBindingTest, CudaRanksFollowTheirGpusNode) {
  proto::NodeInventory inv = TwoSockets();
  for (int i = 0; i < 4; ++i) {
    proto::Gpu* g = inv.add_gpus();
    g->set_index(i);
    g->set_numa_node(i < 2 ? 1 : 0);  // GPUs 0-1 on the second socket
  }
  EXPECT_EQ(Nodes(PlanNumaBinding(inv, "auto", "cuda", 4, kAll)),
            (std::vector<int>{1, 1, 0, 0}));
  // CUDA_VISIBLE_DEVICES renumbers: visible 0 and 1 are GPUs 2 and 3.
  EXPECT_EQ(Nodes(PlanNumaBinding(inv, "auto", "cuda", 2, kAll, "2,3")),
            (std::vector<int>{0, 0}));
  // UUIDs say nothing about the index: blocks.
  EXPECT_EQ(
      Nodes(PlanNumaBinding(inv, "auto", "cuda", 2, kAll, "GPU-5c1f,GPU-77aa")),
      (std::vector<int>{0, 1}));
  // A GPU whose node is unknown (-1) falls back to the blocks.
  inv.mutable_gpus(3)->set_numa_node(-1);
  EXPECT_EQ(Nodes(PlanNumaBinding(inv, "auto", "cuda", 4, kAll)),
            (std::vector<int>{1, 1, 0, 1}));
}

TEST(NumaBindingTest, NothingIsBoundWhenThereIsNoChoice) {
  for (const RankBinding& r :
       PlanNumaBinding(TwoSockets(), "none", "cpu", 2, kAll)) {
    EXPECT_EQ(r.numa_node, -1);
    EXPECT_TRUE(r.cpus.empty());
    EXPECT_EQ(DescribeBinding(r), "not bound");
  }
  proto::NodeInventory one;
  *one.add_numa_nodes() = Node(0, {0, 1});
  EXPECT_EQ(Nodes(PlanNumaBinding(one, "auto", "cpu", 2, {0, 1})),
            (std::vector<int>{-1, -1}));
  EXPECT_EQ(
      Nodes(PlanNumaBinding(proto::NodeInventory(), "auto", "cpu", 2, {0, 1})),
      (std::vector<int>{-1, -1}));
}

TEST(NumaBindingTest, OnlyCpusTheAgentMayUseAreGiven) {
  // A cpuset of 2, 3 and 4: one CPU left on the second socket.
  auto b = PlanNumaBinding(TwoSockets(), "auto", "cpu", 2, {2, 3, 4});
  EXPECT_EQ(Nodes(b), (std::vector<int>{0, 1}));
  EXPECT_EQ(b[0].cpus, (std::vector<int>{2, 3}));
  EXPECT_EQ(b[1].cpus, (std::vector<int>{4}));
  // A cpuset inside one socket leaves one usable node: no binding.
  EXPECT_EQ(Nodes(PlanNumaBinding(TwoSockets(), "auto", "cpu", 2, {0, 1})),
            (std::vector<int>{-1, -1}));
}

}  // namespace
}  // namespace dstrain::agent
