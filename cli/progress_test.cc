#include "cli/progress.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dstrain::cli {
namespace {

TEST(ProgressTest, FormatsDurations) {
  EXPECT_EQ(FormatDuration(0), "0:00");
  EXPECT_EQ(FormatDuration(42.4), "0:42");
  EXPECT_EQ(FormatDuration(63), "1:03");
  EXPECT_EQ(FormatDuration(3723), "1:02:03");
  EXPECT_EQ(FormatDuration(-1), "--:--");
  EXPECT_EQ(FormatDuration(std::nan("")), "--:--");
}

TEST(ProgressTest, FormatsTheLine) {
  ProgressSnapshot p;
  p.step = 120;
  p.total_steps = 300;
  p.loss = 2.91349;
  p.tokens_per_s = 48200;
  p.elapsed_s = 42;
  p.eta_s = 63;
  EXPECT_EQ(FormatProgressLine(p),
            "step 120/300  loss 2.913  48.2k tok/s  elapsed 0:42  ETA 1:03");
  p.eta_s.reset();
  EXPECT_EQ(FormatProgressLine(p),
            "step 120/300  loss 2.913  48.2k tok/s  elapsed 0:42  ETA --:--");
}

TEST(ProgressTest, EstimatesEtaFromThePaceSinceTheFirstStep) {
  EXPECT_FALSE(EstimateEta(1, 10.0, 1, 10.0, 100).has_value());
  // 10 steps in 5 s: 0.5 s a step, 80 steps left.
  auto eta = EstimateEta(10, 20.0, 20, 25.0, 100);
  ASSERT_TRUE(eta.has_value());
  EXPECT_DOUBLE_EQ(*eta, 40.0);
  EXPECT_DOUBLE_EQ(*EstimateEta(1, 0, 100, 10, 100), 0.0);
}

TEST(ProgressTest, PlainPacerPrintsEveryTenthAndWhenQuiet) {
  PlainProgressPacer pacer(15.0);
  std::vector<int> printed;
  for (int step = 1; step <= 100; ++step) {
    if (pacer.ShouldPrint(step, 100, /*now_s=*/step * 0.1)) {
      printed.push_back(step);
    }
  }
  EXPECT_EQ(printed, (std::vector<int>{1, 10, 20, 30, 40, 50, 60, 70, 80, 90}));
  // Slow steps: a line at least every 15 s even within one tenth.
  PlainProgressPacer slow(15.0);
  EXPECT_TRUE(slow.ShouldPrint(1, 1000, 1.0));
  EXPECT_FALSE(slow.ShouldPrint(2, 1000, 10.0));
  EXPECT_TRUE(slow.ShouldPrint(3, 1000, 16.5));
  // The last step never: on a pipe it would land after the workers' "done".
  EXPECT_FALSE(slow.ShouldPrint(1000, 1000, 100.0));
}

}  // namespace
}  // namespace dstrain::cli
