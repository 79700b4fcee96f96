// NCCL's double binary tree: the shapes of NCCL's own illustrations, valid
// and complementary trees for every size up to 300, and the schedule's
// per-node traffic.
#include "topology/plan/double_binary_tree.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/testing/status_matchers.h"
#include "topology/planner/validate.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using Children = std::array<int32_t, 2>;

TEST(DoubleBinaryTree, Tree0MatchesNcclsIllustrationFor14Nodes) {
  // NCCL's picture: 0 - 8; 8 has children 4 and 12; 4: 2 and 6;
  // 12: 10 and 13; 10: 9 and 11; the odd nodes are leaves.
  const auto t = BuildDoubleBinaryTree(14)[0];
  EXPECT_EQ(t.root, 0);
  EXPECT_EQ(t.children[0], (Children{-1, 8}));
  EXPECT_EQ(t.children[8], (Children{4, 12}));
  EXPECT_EQ(t.children[4], (Children{2, 6}));
  EXPECT_EQ(t.children[12], (Children{10, 13}));
  EXPECT_EQ(t.children[10], (Children{9, 11}));
  EXPECT_EQ(t.parent[13], 12);
  EXPECT_EQ(t.parent[8], 0);
  for (int odd = 1; odd < 14; odd += 2)
    EXPECT_EQ(t.children[odd], (Children{-1, -1}));
}

TEST(DoubleBinaryTree, EvenSizesMirror) {
  // NCCL's 12-node picture: tree 1 is tree 0 mirrored, rooted at 11 whose
  // child 3 has children 1 and 7.
  const auto t = BuildDoubleBinaryTree(12)[1];
  EXPECT_EQ(t.root, 11);
  EXPECT_EQ(t.children[11], (Children{-1, 3}));
  EXPECT_EQ(t.children[3], (Children{7, 1}));
  EXPECT_EQ(t.children[7], (Children{9, 5}));
  EXPECT_EQ(t.parent[0], 1);
}

TEST(DoubleBinaryTree, OddSizesShift) {
  // NCCL's 13-node picture: tree 1 is tree 0 shifted by one, rooted at 1
  // whose child 9 has children 5 and 0.
  const auto t = BuildDoubleBinaryTree(13)[1];
  EXPECT_EQ(t.root, 1);
  EXPECT_EQ(t.children[1], (Children{-1, 9}));
  EXPECT_EQ(t.children[9], (Children{5, 0}));
  EXPECT_EQ(t.parent[2], 3);
}

TEST(DoubleBinaryTree, EveryTreeIsValidShallowAndTheTwoAreComplementary) {
  for (int32_t n = 1; n <= 300; ++n) {
    const auto trees = BuildDoubleBinaryTree(n);
    for (const BinaryTree& t : trees) {
      ASSERT_THAT(ValidateBinaryTree(t), IsOk())
          << n << ": " << ValidateBinaryTree(t).message();
      EXPECT_LE(TreeDepth(t), static_cast<int>(std::ceil(std::log2(n))) + 1)
          << n;
    }
    if (n % 2 == 0) {
      // Every node is an inner node of at most one tree, so the two trees'
      // traffic spreads evenly over the nodes.
      for (int32_t v = 0; v < n; ++v) {
        const bool inner0 = trees[0].children[v] != Children{-1, -1};
        const bool inner1 = trees[1].children[v] != Children{-1, -1};
        EXPECT_FALSE(inner0 && inner1) << "n=" << n << " node " << v;
      }
    }
  }
}

TEST(DoubleBinaryTree, ValidatorCatchesBrokenTrees) {
  BinaryTree t = BuildDoubleBinaryTree(8)[0];
  t.parent[3] = 5;  // 5 does not list 3
  EXPECT_THAT(ValidateBinaryTree(t), Not(IsOk()));
  BinaryTree cycle;
  cycle.root = 0;
  cycle.parent = {-1, 2, 1};
  cycle.children = {Children{-1, -1}, Children{2, -1}, Children{1, -1}};
  EXPECT_EQ(ValidateBinaryTree(cycle).message(),
            "tree has a cycle through node 1");
}

TEST(DoubleBinaryTree, ScheduleSendsAboutTwiceTheBufferPerNode) {
  for (int32_t nodes : {2, 3, 16, 17, 100}) {
    for (int32_t g : {1, 4}) {
      const Schedule s = DoubleBinaryTreeAllReduce(nodes, g);
      ASSERT_THAT(ValidateSchedule(s), IsOk()) << ValidateSchedule(s).message();
      ASSERT_EQ(s.phases.size(), 1u);
      const Phase& p = s.phases[0];
      EXPECT_EQ(p.kind, PhaseKind::kPipelined);
      EXPECT_EQ(p.host_hops, 2 * (g - 1));
      std::vector<double> net_out(nodes, 0);
      for (const Transfer& t : p.transfers)
        if (t.src / g != t.dst / g) net_out[t.src / g] += t.fraction;
      double most = 0;
      for (double b : net_out) most = std::max(most, b);
      EXPECT_LE(most, 2.0 + 1e-12) << nodes;
      EXPECT_GE(most, 1.0) << nodes;
    }
  }
}

}  // namespace
}  // namespace dstrain::topology
