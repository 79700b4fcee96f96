// AmpStep: what each amp.dtype means for the step (autocast region, compute
// dtype, loss scaling) and the scaler state for checkpoints.

#include "worker/amp/amp_step.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "common/testing/status_matchers.h"

namespace dstrain::amp {
namespace {

using ::dstrain::testing::IsOk;

TEST(AmpStepTest, OffComputesInFp32WithoutScaling) {
  StatusOr<AmpStep> s = AmpStep::Create(config::AmpDtype::kOff, c10::kCPU);
  ASSERT_THAT(s, IsOk()) << s.status().ToString();
  EXPECT_EQ(s->param_dtype(), at::kFloat);
  EXPECT_FALSE(s->scales_loss());
  const at::Tensor a = torch::ones({4, 4});
  {
    const AutocastScope scope = s->Autocast();
    EXPECT_EQ(at::mm(a, a).scalar_type(), at::kFloat);
  }
  const at::Tensor loss = torch::tensor(2.0f);
  EXPECT_TRUE(s->ScaleLoss(loss).is_same(loss));
  at::Tensor g = torch::full({3}, std::numeric_limits<float>::infinity());
  // No scaler: nothing is checked, nothing skipped (PyTorch without
  // GradScaler).
  EXPECT_FALSE(*s->UnscaleAndCheck(g));
  EXPECT_FALSE(*s->Agree(true));
  EXPECT_THAT(s->EndStep(), IsOk());
  EXPECT_EQ(s->scale(), 1.0);
  EXPECT_EQ(s->scaler_state(), DisabledLossScalerState());
}

TEST(AmpStepTest, Bf16AutocastsOnlyInsideTheScope) {
  StatusOr<AmpStep> s = AmpStep::Create(config::AmpDtype::kBf16, c10::kCPU);
  ASSERT_THAT(s, IsOk()) << s.status().ToString();
  EXPECT_EQ(s->param_dtype(), at::kBFloat16);
  EXPECT_FALSE(s->scales_loss());
  const at::Tensor a = torch::ones({4, 4});
  {
    const AutocastScope scope = s->Autocast();
    EXPECT_TRUE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
    EXPECT_EQ(at::mm(a, a).scalar_type(), at::kBFloat16);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
  EXPECT_EQ(at::mm(a, a).scalar_type(), at::kFloat);
}

TEST(AmpStepTest, Fp16ScalesUnscalesSkipsAndBacksOff) {
  StatusOr<AmpStep> s = AmpStep::Create(config::AmpDtype::kFp16, c10::kCPU);
  ASSERT_THAT(s, IsOk()) << s.status().ToString();
  EXPECT_EQ(s->param_dtype(), at::kHalf);
  ASSERT_TRUE(s->scales_loss());
  EXPECT_EQ(s->ScaleLoss(torch::tensor(2.0f)).item<float>(), 131072.0f);

  // A clean step: unscaled, no skip, the tracker counts it.
  at::Tensor g = torch::full({3}, 65536.0f);
  EXPECT_FALSE(*s->UnscaleAndCheck(g));
  EXPECT_TRUE(torch::equal(g, torch::ones({3})));
  EXPECT_FALSE(*s->Agree(false));
  ASSERT_THAT(s->EndStep(), IsOk());
  EXPECT_EQ(s->scaler_state().growth_tracker, 1);

  // This rank is clean but another rank overflowed: skip, halve, reset.
  at::Tensor clean = torch::ones({3});
  EXPECT_FALSE(*s->UnscaleAndCheck(clean));
  EXPECT_TRUE(*s->Agree(true));
  ASSERT_THAT(s->EndStep(), IsOk());
  EXPECT_EQ(s->scale(), 32768.0);
  EXPECT_EQ(s->scaler_state().growth_tracker, 0);

  // This rank overflowed.
  at::Tensor bad = torch::ones({3});
  bad[1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(*s->UnscaleAndCheck(bad));
}

TEST(AmpStepTest, ScalerStateRoundTripsAndMustMatchTheMode) {
  StatusOr<AmpStep> s = AmpStep::Create(config::AmpDtype::kFp16, c10::kCPU);
  ASSERT_THAT(s, IsOk());
  LossScalerState saved = s->scaler_state();
  saved.scale = 1024.0;
  saved.growth_tracker = 17;
  ASSERT_THAT(s->RestoreScalerState(saved), IsOk());
  EXPECT_EQ(s->scaler_state(), saved);
  EXPECT_EQ(s->scale(), 1024.0);

  const Status from_bf16 = s->RestoreScalerState(DisabledLossScalerState());
  EXPECT_EQ(from_bf16.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(from_bf16.message().find("disabled"), std::string::npos);
  LossScalerState broken = saved;
  broken.scale = -1;
  EXPECT_EQ(s->RestoreScalerState(broken).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s->scaler_state(), saved);  // unchanged by refused states

  StatusOr<AmpStep> b = AmpStep::Create(config::AmpDtype::kBf16, c10::kCPU);
  ASSERT_THAT(b, IsOk());
  EXPECT_THAT(b->RestoreScalerState(DisabledLossScalerState()), IsOk());
  EXPECT_EQ(b->RestoreScalerState(saved).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dstrain::amp
