// The coordinator's plan adapter: hostnames to a validated plan, the per-
// node environment, and errors that name the node or the file.
#include "coordinator/job_plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

class JobPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("job_plan_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    return p;
  }
  std::shared_ptr<const JobCluster> Load(const std::string& path,
                                         const std::string& algorithm) {
    proto::TopologySpec spec;
    spec.set_cluster_path(path);
    spec.set_algorithm(algorithm);
    auto c = LoadJobCluster(spec);
    EXPECT_THAT(c, IsOk()) << c.status().ToString();
    return c.ok() ? *c : nullptr;
  }

  std::filesystem::path dir_;
};

// A topology.conf (as scontrol shows Slurm's) names no devices: each host
// holds the job's ranks per node.
TEST_F(JobPlanTest, ASlurmTopologyGivesEachHostTheJobsRanksPerNode) {
  proto::TopologySpec spec;
  spec.set_cluster_path(Write("slurm-topology.conf",
                              "SwitchName=leaf0 Nodes=node[1-2]\n"
                              "SwitchName=leaf1 Nodes=node[3-4]\n"
                              "SwitchName=spine Switches=leaf[0-1]\n"));
  StatusOr<std::shared_ptr<const JobCluster>> c =
      LoadJobCluster(spec, /*devices_per_host=*/2);
  ASSERT_THAT(c, IsOk());
  StatusOr<JobPlan> plan = PlanJob(**c, {"node3", "node1"}, 2);
  ASSERT_THAT(plan, IsOk());
  EXPECT_EQ(plan->node_order.size(), 2u);
  // With one device per host, two ranks per node do not fit.
  c = LoadJobCluster(spec, 1);
  ASSERT_THAT(c, IsOk());
  EXPECT_THAT(PlanJob(**c, {"node3", "node1"}, 2), Not(IsOk()));
}

TEST_F(JobPlanTest, SampleFatTreeKeepsLeavesTogether) {
  auto c = Load(
      std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/fat-tree-2leaf.yaml",
      "auto");
  ASSERT_NE(c, nullptr);
  // Given in an order that interleaves the leaves (node0, node1 | node2,
  // node3): the plan puts each leaf's hosts next to each other.
  StatusOr<JobPlan> plan = PlanJob(*c, {"node2", "node0", "node3", "node1"}, 2);
  ASSERT_THAT(plan, IsOk()) << plan.status().ToString();
  EXPECT_EQ(plan->node_order, (std::vector<int>{1, 3, 0, 2}));
  EXPECT_EQ(plan->placement, "leaf-contiguous");
  // auto: the cost model's choice by size, as `dstrain topo plan` shows it
  // (rhd below 49.1 KiB, hierarchical above): the flat algorithm is the
  // world's own all-reduce, the composed one goes through the plan's
  // sub-communicators.
  EXPECT_EQ(FormatGradRoutes(plan->grad_routes), "world@0,hierarchical@50300");
  EXPECT_EQ(plan->env.size(), 4u);
}

TEST_F(JobPlanTest, RailFabricsGetTheirNcclSettingsPerHost) {
  auto c = Load(std::string(DSTRAIN_SOURCE_DIR) +
                    "/configs/clusters/rail-optimized-4x2.yaml",
                "ring");
  ASSERT_NE(c, nullptr);
  std::vector<std::string> names;
  for (topology::VertexId h : c->cluster.hosts())
    names.push_back(c->cluster.vertex(h).name);
  StatusOr<JobPlan> plan = PlanJob(*c, names, 1);
  ASSERT_THAT(plan, IsOk()) << plan.status().ToString();
  for (const auto& env : plan->env) {
    EXPECT_EQ(env.at("NCCL_CROSS_NIC"), "0");
    EXPECT_EQ(env.at("NCCL_ALGO"), "Ring");
    EXPECT_EQ(env.at("NCCL_IB_HCA").rfind("=", 0), 0u) << env.at("NCCL_IB_HCA");
  }
}

TEST_F(JobPlanTest, TorusJobsGetLineCommunicators) {
  const std::string path = Write("t.yaml",
                                 "generator: {kind: torus, dims: [2, 2], "
                                 "devices_per_host: 2}\n");
  auto c = Load(path, "torus");
  ASSERT_NE(c, nullptr);
  std::vector<std::string> names;
  for (topology::VertexId h : c->cluster.hosts())
    names.push_back(c->cluster.vertex(h).name);
  StatusOr<JobPlan> plan = PlanJob(*c, names, 2);
  ASSERT_THAT(plan, IsOk()) << plan.status().ToString();
  EXPECT_EQ(FormatGradRoutes(plan->grad_routes), "torus");
  std::vector<std::string> comms;
  for (const auto& sc : plan->communicators) {
    comms.push_back(sc.name());
    EXPECT_EQ(sc.color_size(), 8);
  }
  std::sort(comms.begin(), comms.end());
  // 2x2: parts x+ and y+ (no dimension longer than 2: one direction),
  // each with its host level.
  EXPECT_EQ(comms, (std::vector<std::string>{"torus_p0_local", "torus_p0_x",
                                             "torus_p0_y", "torus_p1_local",
                                             "torus_p1_x", "torus_p1_y"}));
}

TEST_F(JobPlanTest, ErrorsNameTheNodeOrTheFile) {
  auto c = Load(
      std::string(DSTRAIN_SOURCE_DIR) + "/configs/clusters/fat-tree-2leaf.yaml",
      "auto");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(PlanJob(*c, {"node0", "gpu7"}, 2).status().message(),
            "node `gpu7` is not in cluster `fat-tree-2leaf` (" + c->path + ")");
  EXPECT_EQ(PlanJob(*c, {"node0", "node0"}, 2).status().message(),
            "two nodes registered as `node0`; the plan needs one node per "
            "host");
  EXPECT_NE(PlanJob(*c, {"node0"}, 3).status().message().find("2 devices"),
            std::string::npos);

  const std::string bad = Write("bad.yaml", "hosts:\n  - name: n[3-1]\n");
  proto::TopologySpec spec;
  spec.set_cluster_path(bad);
  auto loaded = LoadJobCluster(spec);
  ASSERT_THAT(loaded, Not(IsOk()));
  EXPECT_NE(loaded.status().message().find("bad.yaml:2:13"), std::string::npos)
      << loaded.status().message();
}

}  // namespace
}  // namespace dstrain::coordinator
