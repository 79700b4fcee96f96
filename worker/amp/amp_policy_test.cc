// What each amp.dtype turns into, and the one-line scope the step uses.

#include "worker/amp/amp_policy.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/testing/status_matchers.h"

namespace dstrain::amp {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

constexpr c10::DeviceType kCpu = c10::DeviceType::CPU;

TEST(AmpPolicyTest, EachDtype) {
  StatusOr<AmpPolicy> off = MakeAmpPolicy(config::AmpDtype::kOff, kCpu);
  ASSERT_THAT(off, IsOk());
  EXPECT_FALSE(off->autocast);
  EXPECT_FALSE(off->loss_scaling);
  EXPECT_EQ(off->compute_dtype, at::kFloat);

  StatusOr<AmpPolicy> bf16 = MakeAmpPolicy(config::AmpDtype::kBf16, kCpu);
  ASSERT_THAT(bf16, IsOk());
  EXPECT_TRUE(bf16->autocast);
  EXPECT_FALSE(bf16->loss_scaling);
  EXPECT_EQ(bf16->compute_dtype, at::kBFloat16);

  StatusOr<AmpPolicy> fp16 = MakeAmpPolicy(config::AmpDtype::kFp16, kCpu);
  ASSERT_THAT(fp16, IsOk());
  EXPECT_TRUE(fp16->autocast);
  EXPECT_TRUE(fp16->loss_scaling);
  EXPECT_EQ(fp16->compute_dtype, at::kHalf);
}

TEST(AmpPolicyTest, ScalerOnlyForFp16) {
  for (auto d : {config::AmpDtype::kOff, config::AmpDtype::kBf16,
                 config::AmpDtype::kFp16}) {
    StatusOr<AmpPolicy> p = MakeAmpPolicy(d, kCpu);
    ASSERT_THAT(p, IsOk());
    StatusOr<LossScaler> s = MakeLossScaler(*p, c10::kCPU);
    ASSERT_THAT(s, IsOk());
    EXPECT_EQ(s->enabled(), d == config::AmpDtype::kFp16);
    EXPECT_EQ(s->scale(), d == config::AmpDtype::kFp16 ? 65536.0 : 1.0);
  }
}

TEST(AmpPolicyTest, CudaWithoutADeviceIsNamed) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
  StatusOr<AmpPolicy> p =
      MakeAmpPolicy(config::AmpDtype::kFp16, c10::DeviceType::CUDA);
  ASSERT_THAT(p, Not(IsOk()));
  EXPECT_EQ(p.status().message(),
            "amp.dtype fp16: autocast on cuda: no CUDA device is usable");
  // Off needs nothing from the device.
  EXPECT_THAT(MakeAmpPolicy(config::AmpDtype::kOff, c10::DeviceType::CUDA),
              IsOk());
}

TEST(AmpPolicyTest, ScopeAutocastsOnlyWhenAsked) {
  const at::Tensor a = torch::randn({2, 2});
  {
    AutocastScope scope(*MakeAmpPolicy(config::AmpDtype::kOff, kCpu));
    EXPECT_FALSE(at::autocast::is_autocast_enabled(kCpu));
    EXPECT_EQ(at::mm(a, a).scalar_type(), at::kFloat);
  }
  {
    AutocastScope scope(*MakeAmpPolicy(config::AmpDtype::kBf16, kCpu));
    EXPECT_EQ(at::mm(a, a).scalar_type(), at::kBFloat16);
  }
  EXPECT_FALSE(at::autocast::is_autocast_enabled(kCpu));
}

}  // namespace
}  // namespace dstrain::amp
