#include "worker/comm/bench/iteration_policy.h"

#include <gtest/gtest.h>

namespace dstrain::comm::bench {
namespace {

TEST(IterationPolicyTest, RunsUntilTheTargetTimeWithAFloorAndACap) {
  IterationPolicy p;  // 0.2 s, at least 3, at most 100000
  EXPECT_EQ(ChooseIterations(p, 1e-3), 200);
  EXPECT_EQ(ChooseIterations(p, 0.03), 7);  // ⌈6.67⌉
  EXPECT_EQ(ChooseIterations(p, 0.5), 3);   // slow: the floor
  EXPECT_EQ(ChooseIterations(p, 1e-9), 100000);
  EXPECT_EQ(ChooseIterations(p, 0.0), 100000);
  p.max_iters = 50;
  EXPECT_EQ(ChooseIterations(p, 1e-3), 50);
}

TEST(IterationPolicyTest, FixedIterationsWinOverTheEstimate) {
  IterationPolicy p;
  p.fixed_iters = 10;
  EXPECT_EQ(ChooseIterations(p, 1e-6), 10);
  EXPECT_EQ(ChooseIterations(p, 5.0), 10);
}

TEST(IterationPolicyTest, WarmupIsATenthUpToFive) {
  EXPECT_EQ(WarmupIterations(3), 0);
  EXPECT_EQ(WarmupIterations(20), 2);
  EXPECT_EQ(WarmupIterations(4000), 5);
}

}  // namespace
}  // namespace dstrain::comm::bench
