// Mixed precision on a GPU (label gpu): CUDA autocast to fp16 and bf16, and
// the loss scaler on CUDA tensors with an injected overflow. Every test
// skips when no CUDA device is usable, so the suite passes on CPU machines.

#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "common/testing/status_matchers.h"
#include "worker/amp/amp_policy.h"
#include "worker/amp/autocast_guard.h"
#include "worker/amp/loss_scaler.h"

namespace dstrain::amp {
namespace {

using ::dstrain::testing::IsOk;

constexpr c10::DeviceType kCuda = c10::DeviceType::CUDA;

class AmpCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }
  const c10::Device gpu{c10::kCUDA, 0};
};

TEST_F(AmpCudaTest, AutocastFp16AndBf16OnCuda) {
  const at::Tensor a = torch::randn({16, 16}, torch::Device(gpu));
  EXPECT_EQ(at::mm(a, a).scalar_type(), at::kFloat);
  {
    AutocastGuard guard(kCuda, at::kHalf);
    EXPECT_EQ(at::mm(a, a).scalar_type(), at::kHalf);
    // CPU autocast is a separate switch and stays off.
    EXPECT_FALSE(at::autocast::is_autocast_enabled(c10::DeviceType::CPU));
  }
  {
    AutocastGuard guard(kCuda, at::kBFloat16);
    EXPECT_EQ(at::mm(a, a).scalar_type(), at::kBFloat16);
  }
  EXPECT_EQ(at::mm(a, a).scalar_type(), at::kFloat);
}

// A linear layer whose fp16 backward overflows at scale 2^16: the scaler
// skips, halves, and the weights stay put; a normal input then steps.
TEST_F(AmpCudaTest, InjectedOverflowSkipsAndBacksOff) {
  StatusOr<LossScaler> scaler = LossScaler::Create(LossScalerOptions{}, gpu);
  ASSERT_THAT(scaler, IsOk()) << scaler.status().ToString();
  torch::nn::Linear lin(8, 8);
  lin->to(gpu);
  torch::optim::SGD opt(lin->parameters(), torch::optim::SGDOptions(0.1));
  auto step = [&](float input_value) {
    opt.zero_grad();
    const at::Tensor x = torch::full({4, 8}, input_value, torch::Device(gpu));
    at::Tensor loss;
    {
      AutocastGuard guard(kCuda, at::kHalf);
      loss = lin->forward(x).sum();
    }
    scaler->Scale(loss.to(at::kFloat)).backward();
    std::vector<at::Tensor> grads;
    for (const at::Tensor& p : lin->parameters()) grads.push_back(p.grad());
    EXPECT_THAT(scaler->Unscale(grads), IsOk());
    const bool skip = scaler->ShouldSkipStep();
    if (!skip) opt.step();
    EXPECT_THAT(scaler->Update(), IsOk());
    return skip;
  };
  const at::Tensor before = lin->weight.detach().clone();
  // 60000 × 2^16 overflows fp16's 65504 in the weight gradient.
  EXPECT_TRUE(step(60000.0f));
  EXPECT_TRUE(torch::equal(before, lin->weight.detach()));
  EXPECT_EQ(scaler->scale(), 32768.0);
  EXPECT_EQ(scaler->growth_tracker(), 0);
  EXPECT_FALSE(step(0.01f));
  EXPECT_FALSE(torch::equal(before, lin->weight.detach()));
  EXPECT_EQ(scaler->growth_tracker(), 1);
}

TEST_F(AmpCudaTest, UpdateMatchesTheCpuKernel) {
  LossScalerOptions o;
  o.growth_interval = 2;
  StatusOr<LossScaler> g = LossScaler::Create(o, gpu);
  StatusOr<LossScaler> c = LossScaler::Create(o, c10::kCPU);
  ASSERT_THAT(g, IsOk());
  ASSERT_THAT(c, IsOk());
  for (float v : {1.0f, 1.0f, INFINITY, 1.0f, std::nanf(""), 1.0f, 1.0f}) {
    at::Tensor gg = torch::full({3}, v, torch::Device(gpu));
    at::Tensor cc = torch::full({3}, v);
    ASSERT_THAT(g->Unscale({gg}), IsOk());
    ASSERT_THAT(c->Unscale({cc}), IsOk());
    EXPECT_EQ(g->ShouldSkipStep(), c->ShouldSkipStep());
    ASSERT_THAT(g->Update(), IsOk());
    ASSERT_THAT(c->Update(), IsOk());
    EXPECT_EQ(g->state(), c->state());
  }
}

TEST_F(AmpCudaTest, PolicyOnCuda) {
  StatusOr<AmpPolicy> p = MakeAmpPolicy(config::AmpDtype::kFp16, kCuda);
  ASSERT_THAT(p, IsOk()) << p.status().ToString();
  StatusOr<LossScaler> s = MakeLossScaler(*p, gpu);
  ASSERT_THAT(s, IsOk());
  EXPECT_TRUE(s->enabled());
}

}  // namespace
}  // namespace dstrain::amp
