// AutocastGuard against torch.autocast's enter/exit: the dtype ops produce
// inside and outside, nesting, the cast cache's lifetime, captured states,
// thread locality, and refusals.

#include "worker/amp/autocast_guard.h"

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

#include "common/testing/status_matchers.h"

namespace dstrain::amp {
namespace {

using ::dstrain::testing::IsOk;

constexpr c10::DeviceType kCpu = c10::DeviceType::CPU;

at::ScalarType MatmulDtype() {
  const at::Tensor a = torch::randn({4, 8});
  const at::Tensor b = torch::randn({8, 3});
  return at::matmul(a, b).scalar_type();
}

// The thread's autocast state is back to libtorch's defaults.
void ExpectPristine() {
  EXPECT_FALSE(at::autocast::is_autocast_enabled(kCpu));
  EXPECT_EQ(at::autocast::get_autocast_dtype(kCpu), at::kBFloat16);
  EXPECT_TRUE(at::autocast::is_autocast_cache_enabled());
  // Nesting is back at 0: one increment brings it to 1.
  EXPECT_EQ(at::autocast::increment_nesting(), 1);
  EXPECT_EQ(at::autocast::decrement_nesting(), 0);
}

TEST(AutocastGuardTest, MatmulIsBf16InsideAndFp32Outside) {
  ExpectPristine();
  EXPECT_EQ(MatmulDtype(), at::kFloat);
  {
    AutocastGuard guard(kCpu, at::kBFloat16);
    EXPECT_TRUE(at::autocast::is_autocast_enabled(kCpu));
    EXPECT_EQ(MatmulDtype(), at::kBFloat16);
    // Reductions autocast keeps in fp32 (the loss).
    const at::Tensor logits = torch::randn({4, 5});
    const at::Tensor target = torch::tensor({0, 1, 2, 3});
    EXPECT_EQ(
        torch::nn::functional::cross_entropy(logits, target).scalar_type(),
        at::kFloat);
  }
  EXPECT_EQ(MatmulDtype(), at::kFloat);
  ExpectPristine();
}

TEST(AutocastGuardTest, Fp16OnCpu) {
  {
    AutocastGuard guard(kCpu, at::kHalf);
    EXPECT_EQ(MatmulDtype(), at::kHalf);
  }
  ExpectPristine();
}

TEST(AutocastGuardTest, NestingRestoresEachOuterState) {
  {
    AutocastGuard outer(kCpu, at::kBFloat16);
    EXPECT_EQ(at::autocast::increment_nesting(), 2);  // outer counted once
    at::autocast::decrement_nesting();
    {
      AutocastGuard inner(kCpu, at::kHalf);
      EXPECT_EQ(MatmulDtype(), at::kHalf);
      {
        AutocastGuard off(kCpu, at::kHalf, /*enabled=*/false);
        EXPECT_FALSE(at::autocast::is_autocast_enabled(kCpu));
        EXPECT_EQ(MatmulDtype(), at::kFloat);
      }
      EXPECT_TRUE(at::autocast::is_autocast_enabled(kCpu));
      EXPECT_EQ(MatmulDtype(), at::kHalf);
    }
    EXPECT_EQ(at::autocast::get_autocast_dtype(kCpu), at::kBFloat16);
    EXPECT_EQ(MatmulDtype(), at::kBFloat16);
  }
  ExpectPristine();
}

TEST(AutocastGuardTest, CacheFlagIsInheritedAndRestored) {
  {
    AutocastGuard outer(kCpu, at::kBFloat16, true, /*cache_enabled=*/false);
    EXPECT_FALSE(at::autocast::is_autocast_cache_enabled());
    {
      AutocastGuard inner(kCpu, at::kBFloat16);  // unset: keeps current
      EXPECT_FALSE(at::autocast::is_autocast_cache_enabled());
    }
    {
      AutocastGuard inner(kCpu, at::kBFloat16, true, true);
      EXPECT_TRUE(at::autocast::is_autocast_cache_enabled());
    }
    EXPECT_FALSE(at::autocast::is_autocast_cache_enabled());
  }
  ExpectPristine();
}

// A leaf fp32 weight that requires grad is cast once per autocast region:
// the cache keeps the cast until the OUTERMOST guard exits (nesting 0).
TEST(AutocastGuardTest, CastCacheLivesUntilTheOutermostExit) {
  const at::Tensor weight = torch::randn({8, 8}).requires_grad_(true);
  auto cast = [&] {
    return at::autocast::cached_cast(at::kBFloat16, weight, kCpu);
  };
  at::Tensor first;
  {
    AutocastGuard outer(kCpu, at::kBFloat16);
    first = cast();
    EXPECT_EQ(first.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(cast().is_same(first));  // cached
    {
      AutocastGuard inner(kCpu, at::kBFloat16);
      EXPECT_TRUE(cast().is_same(first));
    }
    EXPECT_TRUE(cast().is_same(first));  // the inner exit kept it
  }
  {
    AutocastGuard again(kCpu, at::kBFloat16);
    EXPECT_FALSE(cast().is_same(first));  // the outer exit cleared it
  }
  {
    AutocastGuard uncached(kCpu, at::kBFloat16, true, /*cache_enabled=*/false);
    const at::Tensor a = cast();
    EXPECT_FALSE(cast().is_same(a));
  }
  ExpectPristine();
}

TEST(AutocastGuardTest, CapturedStateReentersTheSameRegion) {
  AutocastState captured;
  {
    AutocastGuard guard(kCpu, at::kHalf, true, /*cache_enabled=*/false);
    captured = CurrentAutocastState(kCpu);
  }
  EXPECT_TRUE(captured.enabled);
  EXPECT_EQ(captured.dtype, at::kHalf);
  EXPECT_FALSE(captured.cache_enabled);
  ExpectPristine();
  {
    AutocastGuard replay(kCpu, captured);
    EXPECT_EQ(MatmulDtype(), at::kHalf);
    EXPECT_FALSE(at::autocast::is_autocast_cache_enabled());
  }
  // A captured "off" state replays as off, even inside autocast.
  const AutocastState off = CurrentAutocastState(kCpu);
  EXPECT_FALSE(off.enabled);
  {
    AutocastGuard outer(kCpu, at::kBFloat16);
    AutocastGuard replay(kCpu, off);
    EXPECT_EQ(MatmulDtype(), at::kFloat);
  }
  ExpectPristine();
}

TEST(AutocastGuardTest, StateIsPerThread) {
  AutocastGuard guard(kCpu, at::kBFloat16);
  at::ScalarType other = at::kBFloat16;
  std::thread t([&] { other = MatmulDtype(); });
  t.join();
  EXPECT_EQ(other, at::kFloat);
  EXPECT_EQ(MatmulDtype(), at::kBFloat16);
}

TEST(AutocastGuardTest, RefusesWhatTorchAutocastRefuses) {
  const Status fp32 = CheckAutocast(kCpu, at::kFloat);
  EXPECT_EQ(fp32.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(fp32.message().find("Float on cpu"), std::string::npos)
      << fp32.message();
  EXPECT_THAT(CheckAutocast(kCpu, at::kBFloat16), IsOk());
  EXPECT_THAT(CheckAutocast(kCpu, at::kHalf), IsOk());
  EXPECT_EQ(CheckAutocast(c10::DeviceType::Meta, at::kHalf).code(),
            StatusCode::kInvalidArgument);
  EXPECT_THROW(AutocastGuard(kCpu, at::kFloat), c10::Error);
  ExpectPristine();  // a refused guard changed nothing
  if (!torch::cuda::is_available()) {
    const Status cuda = CheckAutocast(c10::DeviceType::CUDA, at::kHalf);
    EXPECT_EQ(cuda.code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(cuda.message().find("no CUDA device"), std::string::npos);
  }
}

}  // namespace
}  // namespace dstrain::amp
