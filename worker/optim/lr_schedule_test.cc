#include "worker/optim/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/testing/status_matchers.h"

namespace dstrain::optim {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

LrSchedule Make(const std::string& type, int warmup, int steps) {
  config::TrainConfig t;
  t.steps = steps;
  t.optimizer.lr = 1.0;
  t.schedule.type = type;
  t.schedule.warmup_steps = warmup;
  t.schedule.min_lr_ratio = 0.1;
  StatusOr<LrSchedule> s = MakeLrSchedule(t);
  EXPECT_THAT(s, IsOk()) << s.status().ToString();
  return *s;
}

TEST(LrScheduleTest, WarmupRisesLinearlyFromTheFirstStep) {
  const LrSchedule s = Make("cosine", 4, 100);
  EXPECT_DOUBLE_EQ(LearningRate(s, 0), 0.25);
  EXPECT_DOUBLE_EQ(LearningRate(s, 1), 0.5);
  EXPECT_DOUBLE_EQ(LearningRate(s, 3), 1.0);
  EXPECT_DOUBLE_EQ(LearningRate(s, 4), 1.0);  // peak right after warm-up
}

TEST(LrScheduleTest, CosineFallsToMinRatio) {
  // 111 steps, 10 of warm-up: the decay spans steps 10..110.
  const LrSchedule s = Make("cosine", 10, 111);
  // Half-way through the decay: r + (1 - r) / 2.
  EXPECT_NEAR(LearningRate(s, 60), 0.55, 1e-12);
  EXPECT_NEAR(LearningRate(s, 35), 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI / 4)),
              1e-12);
  EXPECT_GT(LearningRate(s, 109), 0.1);
  EXPECT_DOUBLE_EQ(LearningRate(s, 110), 0.1);  // the last step
  EXPECT_DOUBLE_EQ(LearningRate(s, 500), 0.1);  // clamped past the end
  for (int k = 10; k < 110; ++k) {
    EXPECT_GE(LearningRate(s, k), LearningRate(s, k + 1)) << k;
  }
}

TEST(LrScheduleTest, LinearAndConstant) {
  const LrSchedule lin = Make("linear", 0, 101);
  EXPECT_DOUBLE_EQ(LearningRate(lin, 0), 1.0);
  EXPECT_NEAR(LearningRate(lin, 50), 0.55, 1e-12);
  EXPECT_NEAR(LearningRate(lin, 100), 0.1, 1e-12);
  const LrSchedule c = Make("constant", 2, 100);
  EXPECT_DOUBLE_EQ(LearningRate(c, 0), 0.5);
  EXPECT_DOUBLE_EQ(LearningRate(c, 2), 1.0);
  EXPECT_DOUBLE_EQ(LearningRate(c, 99), 1.0);
}

// lr 1e-3, min_lr_ratio 0.1, 40 steps with 5 of warm-up: the 40th step
// (index 39) trains at 1e-4, not 1.257e-4.
TEST(LrScheduleTest, TheLastStepUsesExactlyTheMinimum) {
  for (const char* type : {"linear", "cosine"}) {
    config::TrainConfig t;
    t.steps = 40;
    t.optimizer.lr = 1e-3;
    t.schedule.type = type;
    t.schedule.warmup_steps = 5;
    t.schedule.min_lr_ratio = 0.1;
    StatusOr<LrSchedule> s = MakeLrSchedule(t);
    ASSERT_THAT(s, IsOk());
    EXPECT_NEAR(LearningRate(*s, 39), 1e-4, 1e-15) << type;
    EXPECT_DOUBLE_EQ(LearningRate(*s, 5), 1e-3) << type;
  }
}

TEST(LrScheduleTest, NoWarmupStartsAtPeak) {
  const LrSchedule s = Make("cosine", 0, 10);
  EXPECT_DOUBLE_EQ(LearningRate(s, 0), 1.0);
}

TEST(LrScheduleTest, UnknownTypeNamesTheField) {
  config::TrainConfig t;
  t.schedule.type = "step";
  StatusOr<LrSchedule> s = MakeLrSchedule(t);
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_NE(s.status().message().find("train.schedule.type"),
            std::string::npos);
}

}  // namespace
}  // namespace dstrain::optim
