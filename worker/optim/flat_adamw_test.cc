#include "worker/optim/flat_adamw.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dstrain::optim {
namespace {

config::OptimizerConfig Config(double wd) {
  config::OptimizerConfig c;
  c.lr = 1e-2;
  c.beta1 = 0.9;
  c.beta2 = 0.95;
  c.eps = 1e-8;
  c.weight_decay = wd;
  return c;
}

// torch::optim::AdamW over a matrix (decayed) and a bias (not decayed), and
// FlatAdamW over the same values laid out flat: bitwise equal after every
// step, with a changing learning rate.
TEST(FlatAdamWTest, MatchesTorchAdamWBitwise) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(7);
  torch::Tensor w = torch::randn({37, 11}, gen).requires_grad_(true);
  torch::Tensor b = torch::randn({29}, gen).requires_grad_(true);
  const config::OptimizerConfig cfg = Config(0.1);

  auto decay = torch::optim::AdamWOptions(cfg.lr)
                   .betas({cfg.beta1, cfg.beta2})
                   .eps(cfg.eps)
                   .weight_decay(cfg.weight_decay);
  auto no_decay = decay;
  no_decay.weight_decay(0.0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{w},
                      std::make_unique<torch::optim::AdamWOptions>(decay));
  groups.emplace_back(std::vector<torch::Tensor>{b},
                      std::make_unique<torch::optim::AdamWOptions>(no_decay));
  torch::optim::AdamW reference(groups, decay);

  at::Tensor flat = torch::cat({w.detach().reshape(-1), b.detach()});
  FlatAdamW mine(flat, {{0, w.numel()}}, cfg);

  for (int step = 0; step < 6; ++step) {
    const double lr = 1e-2 * (step + 1) / 3.0;
    const at::Tensor gw = torch::randn(w.sizes(), gen);
    const at::Tensor gb = torch::randn(b.sizes(), gen);
    w.mutable_grad() = gw.clone();
    b.mutable_grad() = gb.clone();
    for (auto& g : reference.param_groups()) g.options().set_lr(lr);
    reference.step();
    mine.Step(torch::cat({gw.reshape(-1), gb}), lr);
    const at::Tensor want = torch::cat({w.detach().reshape(-1), b.detach()});
    ASSERT_TRUE(torch::equal(flat, want)) << "step " << step + 1;
  }
  EXPECT_EQ(mine.step_count(), 6);
  EXPECT_EQ(mine.state_bytes(), 2 * flat.numel() * 4);
}

TEST(FlatAdamWTest, DecayOnlyInsideTheRanges) {
  // Zero gradients: Adam's update is 0, only the decay moves weights.
  at::Tensor p = torch::ones({10});
  FlatAdamW opt(p, {{2, 4}, {7, 8}}, Config(0.5));
  opt.Step(torch::zeros({10}), 0.1);
  const float decayed = 1.0f - 0.1f * 0.5f;
  for (int i = 0; i < 10; ++i) {
    const bool in = (i >= 2 && i < 4) || i == 7;
    EXPECT_FLOAT_EQ(p[i].item<float>(), in ? decayed : 1.0f) << i;
  }
}

TEST(FlatAdamWTest, RefusesBadShapes) {
  EXPECT_THROW(FlatAdamW(torch::ones({2, 2}), {}, Config(0)), c10::Error);
  EXPECT_THROW(FlatAdamW(torch::ones({4}), {{2, 5}}, Config(0)), c10::Error);
  FlatAdamW ok(torch::ones({4}), {}, Config(0));
  EXPECT_THROW(ok.Step(torch::ones({3}), 0.1), c10::Error);
}

}  // namespace
}  // namespace dstrain::optim
