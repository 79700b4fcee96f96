#include "worker/comm/bench/iteration_policy.h"

#include <gtest/gtest.h>

#include <random>

namespace dstrain::comm::bench {
namespace {

TEST(IterationPolicyTest, RepeatsShareTheTargetTimeWithAFloorAndACap) {
  IterationPolicy p;  // 0.2 s over 5 repeats, at least 3, at most 100000
  EXPECT_EQ(ChooseIterations(p, 1e-3), 40);  // 0.2 / (5 x 1 ms)
  EXPECT_EQ(ChooseIterations(p, 0.006), 7);  // ⌈6.67⌉
  EXPECT_EQ(ChooseIterations(p, 0.5), 3);    // slow: the floor
  EXPECT_EQ(ChooseIterations(p, 1e-9), 20000);
  EXPECT_EQ(ChooseIterations(p, 0.0), 20000);
  p.max_iters = 50;
  EXPECT_EQ(ChooseIterations(p, 1e-3), 10);
}

TEST(IterationPolicyTest, FixedIterationsWinOverTheEstimate) {
  IterationPolicy p;
  p.fixed_iters = 10;
  EXPECT_EQ(ChooseIterations(p, 1e-6), 10);
  EXPECT_EQ(ChooseIterations(p, 5.0), 10);
  // Exactly `repeats` repeats, however little they measured.
  for (int done = 0; done < 5; ++done)
    EXPECT_TRUE(AnotherRepeat(p, done, 10, 0.0));
  EXPECT_FALSE(AnotherRepeat(p, 5, 10, 0.0));
  EXPECT_EQ(MaxRowIterations(p), 50);
}

// What the header promises, on rows whose every run takes a random time and
// whose estimate is off by up to 30x either way (the first runs of a row are
// often much slower or faster than the rest): at least `repeats` repeats of
// N runs; the target time measured unless the cap on runs came first; never
// more runs than MaxRowIterations.
TEST(IterationPolicyTest, RowsMeasureTheTargetOrReachTheCap) {
  std::mt19937_64 rng(77);
  std::uniform_real_distribution<double> log10_time(-7, 0);
  std::uniform_real_distribution<double> log10_error(-1.5, 1.5);
  for (int trial = 0; trial < 5000; ++trial) {
    IterationPolicy p;
    p.repeats = 1 + static_cast<int>(rng() % 7);
    p.min_iters = 1 + static_cast<int>(rng() % 4);
    p.max_iters = trial % 3 == 0 ? 50 : 100000;
    const double per_run = std::pow(10.0, log10_time(rng));
    const int n =
        ChooseIterations(p, per_run * std::pow(10.0, log10_error(rng)));
    ASSERT_GE(n, p.min_iters);
    int done = 0;
    double measured = 0;
    while (AnotherRepeat(p, done, n, measured)) {
      measured += n * per_run;
      ++done;
    }
    EXPECT_GE(done, p.repeats);
    EXPECT_LE(static_cast<long long>(done) * n, MaxRowIterations(p))
        << "per run " << per_run << ", N " << n << ", repeats " << done;
    const bool capped = static_cast<long long>(done + 1) * n > p.max_iters;
    EXPECT_TRUE(measured >= p.target_seconds || capped)
        << "measured " << measured << " s with " << done << " x " << n;
  }
}

TEST(IterationPolicyTest, WarmupIsATenthUpToFive) {
  EXPECT_EQ(WarmupIterations(3), 0);
  EXPECT_EQ(WarmupIterations(20), 2);
  EXPECT_EQ(WarmupIterations(4000), 5);
}

}  // namespace
}  // namespace dstrain::comm::bench
