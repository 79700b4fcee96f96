#include "worker/engine/flat_parameters.h"

#include <gtest/gtest.h>

#include "worker/models/gpt.h"
#include "worker/optim/adamw.h"

namespace dstrain::engine {
namespace {

models::Gpt Tiny() {
  models::GptOptions o;
  o.layers = 1;
  o.d_model = 16;
  o.heads = 2;
  o.seq_len = 8;
  o.d_ff = 32;
  models::Gpt m(o);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(1);
  m->ResetParameters(g);
  return m;
}

at::Tensor Batch(int64_t seed) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randint(0, 256, {2, 9}, g, torch::kInt64);
}

TEST(FlatParametersTest, ParametersBecomeViewsDecayFirst) {
  models::Gpt m = Tiny();
  std::vector<at::Tensor> before;
  for (const auto& p : m->parameters()) before.push_back(p.detach().clone());
  FlatParameters flat(*m);
  const auto params = m->parameters();
  int64_t total = 0, decay = 0;
  const float* base = flat.params().data_ptr<float>();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::equal(params[i], before[i])) << "values kept";
    const float* p = params[i].data_ptr<float>();
    EXPECT_GE(p, base);
    EXPECT_LE(p + params[i].numel(), base + flat.numel());
    const bool in_decay = p < base + flat.decay_numel();
    EXPECT_EQ(in_decay, params[i].dim() >= 2);
    total += params[i].numel();
    if (params[i].dim() >= 2) decay += params[i].numel();
  }
  EXPECT_EQ(flat.numel(), total);
  EXPECT_EQ(flat.decay_numel(), decay);
  EXPECT_EQ(flat.grads_and_loss().numel(), total + 1);
}

TEST(FlatParametersTest, BackwardAccumulatesIntoTheFlatBuffer) {
  models::Gpt flat_model = Tiny();
  models::Gpt ref = Tiny();
  FlatParameters flat(*flat_model);
  const float* gbase = flat.grads().data_ptr<float>();
  // Two micro-batches accumulate, exactly as two backward calls do on the
  // reference model with ordinary .grad tensors.
  for (int64_t s : {1, 2}) {
    const at::Tensor b = Batch(s);
    flat_model->Loss(b.narrow(1, 0, 8), b.narrow(1, 1, 8)).backward();
    ref->Loss(b.narrow(1, 0, 8), b.narrow(1, 1, 8)).backward();
  }
  EXPECT_EQ(flat.EnsureGradViews(), 0) << "autograd replaced a gradient";
  EXPECT_EQ(flat.grads().data_ptr<float>(), gbase);
  const auto fp = flat_model->parameters(), rp = ref->parameters();
  for (size_t i = 0; i < fp.size(); ++i) {
    EXPECT_TRUE(torch::allclose(fp[i].grad(), rp[i].grad(), 1e-6, 1e-7)) << i;
  }
  EXPECT_GT(flat.grads().abs().sum().item<double>(), 0);
}

TEST(FlatParametersTest, OptimizerStepMovesModuleParametersAndDigestChanges) {
  models::Gpt m = Tiny();
  FlatParameters flat(*m);
  auto opt = optim::MakeAdamW(flat, config::OptimizerConfig{});
  EXPECT_EQ(opt->param_groups().size(), 2u);
  const std::string d0 = flat.Digest();
  EXPECT_EQ(d0.size(), 16u);
  const at::Tensor before = m->tok_emb->weight.detach().clone();
  const at::Tensor b = Batch(3);
  m->Loss(b.narrow(1, 0, 8), b.narrow(1, 1, 8)).backward();
  opt->step();
  EXPECT_FALSE(torch::equal(before, m->tok_emb->weight));
  EXPECT_NE(flat.Digest(), d0);
}

TEST(FlatParametersTest, ClipGradNormScalesToTheLimit) {
  at::Tensor g = torch::full({4}, 2.0f);  // norm 4
  EXPECT_DOUBLE_EQ(optim::ClipGradNorm(g, 1.0), 4.0);
  EXPECT_NEAR(g.norm().item<double>(), 1.0, 1e-5);
  at::Tensor small = torch::full({4}, 0.1f);
  optim::ClipGradNorm(small, 1.0);
  EXPECT_TRUE(torch::equal(small, torch::full({4}, 0.1f)));
  at::Tensor off = torch::full({4}, 2.0f);
  optim::ClipGradNorm(off, 0.0);
  EXPECT_TRUE(torch::equal(off, torch::full({4}, 2.0f)));
}

}  // namespace
}  // namespace dstrain::engine
