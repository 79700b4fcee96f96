#include "worker/models/gpt.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dstrain::models {
namespace {

GptOptions Tiny() {
  GptOptions o;
  o.vocab = 256;
  o.layers = 2;
  o.d_model = 32;
  o.heads = 4;
  o.seq_len = 16;
  o.d_ff = 64;
  return o;
}

Gpt Build(const GptOptions& o, std::uint64_t seed) {
  Gpt m(o);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  m->ResetParameters(g);
  return m;
}

TEST(GptTest, ParameterCountAndOrder) {
  const GptOptions o = Tiny();
  Gpt m = Build(o, 1);
  const int64_t c = o.d_model, f = o.d_ff;
  const int64_t block = 2 * (2 * c) + (c * 3 * c + 2 * c) + (c * c + c) +
                        (c * f + f) + (f * c + c);
  const int64_t expected =
      o.vocab * c + o.seq_len * c + o.layers * block + 2 * c;  // no head: tied
  int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  EXPECT_EQ(n, expected);
  const auto names = m->named_parameters().keys();
  EXPECT_EQ(names.front(), "tok_emb.weight");
  EXPECT_EQ(names[1], "pos_emb.weight");
  EXPECT_EQ(names.back(), "ln_f.bias");
}

TEST(GptTest, Gpt2InitScalesResidualProjections) {
  GptOptions o = Tiny();
  o.d_model = 128;
  o.d_ff = 512;
  o.layers = 8;
  Gpt m = Build(o, 3);
  EXPECT_NEAR(m->tok_emb->weight.std().item<double>(), 0.02, 0.001);
  auto* b = m->blocks[0]->as<BlockImpl>();
  EXPECT_NEAR(b->attn->qkv->weight.std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(b->mlp->proj->weight.std().item<double>(), 0.02 / std::sqrt(16.0),
              0.0005);
  EXPECT_FALSE(b->attn->qkv->bias.defined());
  EXPECT_EQ(b->attn->q_bias.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(b->attn->v_bias.abs().sum().item<double>(), 0.0);
}

TEST(GptTest, SameSeedSameWeightsWithoutTheGlobalRng) {
  Gpt a = Build(Tiny(), 7);
  torch::manual_seed(999);  // must not matter
  Gpt b = Build(Tiny(), 7);
  Gpt c = Build(Tiny(), 8);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::equal(pa[i], pb[i]));
  EXPECT_FALSE(torch::equal(pa[0], pc[0]));
}

TEST(GptTest, FirstLossIsCloseToLnVocab) {
  GptOptions o = Tiny();
  o.d_model = 128;
  o.d_ff = 512;
  o.seq_len = 64;
  Gpt m = Build(o, 1234);
  torch::NoGradGuard ng;
  const at::Tensor idx = torch::randint(0, 256, {8, 65}, torch::kInt64);
  const double loss =
      m->Loss(idx.narrow(1, 0, 64), idx.narrow(1, 1, 64)).item<double>();
  EXPECT_NEAR(loss, std::log(256.0), 0.1);
}

TEST(GptTest, AttentionIsCausal) {
  Gpt m = Build(Tiny(), 5);
  m->eval();
  torch::NoGradGuard ng;
  at::Tensor idx = torch::randint(0, 256, {2, 16}, torch::kInt64);
  const at::Tensor before = m->forward(idx);
  at::Tensor changed = idx.clone();
  changed.narrow(1, 10, 6).fill_(42);  // change only positions 10..15
  const at::Tensor after = m->forward(changed);
  EXPECT_TRUE(torch::allclose(before.narrow(1, 0, 10), after.narrow(1, 0, 10)));
  EXPECT_FALSE(
      torch::allclose(before.narrow(1, 10, 6), after.narrow(1, 10, 6)));
}

TEST(GptTest, HeadIsTiedToTheTokenEmbedding) {
  Gpt m = Build(Tiny(), 5);
  const at::Tensor idx = torch::randint(0, 256, {2, 17}, torch::kInt64);
  m->Loss(idx.narrow(1, 0, 16), idx.narrow(1, 1, 16)).backward();
  // Tokens that never appear as inputs still get gradient through the head.
  const at::Tensor g = m->tok_emb->weight.grad();
  ASSERT_TRUE(g.defined());
  EXPECT_EQ(g.ne(0).any(1).sum().item<int64_t>(), 256);
}

TEST(GptTest, UnitsHoldEveryParameterOnceRootFirstAndLast) {
  Gpt m = Build(Tiny(), 5);
  const std::vector<ModelUnit> units = m->Units();
  ASSERT_EQ(units.size(), 3u);
  EXPECT_EQ(units[0].name, "root");
  EXPECT_FALSE(units[0].recomputable);
  EXPECT_EQ(units[2].name, "blocks.1");
  EXPECT_TRUE(units[2].recomputable);
  std::vector<std::string> root;
  for (const auto& [name, p] : units[0].params) root.push_back(name);
  EXPECT_EQ(root, (std::vector<std::string>{"tok_emb.weight", "pos_emb.weight",
                                            "ln_f.weight", "ln_f.bias"}));
  std::size_t total = 0;
  for (const ModelUnit& u : units) {
    for (const auto& [name, p] : u.params) {
      ++total;
      if (u.name != "root") {
        EXPECT_EQ(name.rfind(u.name + ".", 0), 0u) << name;
      }
    }
  }
  EXPECT_EQ(total, m->parameters().size());
  EXPECT_EQ(m->UnitForwardOrder(), (std::vector<int>{0, 1, 2, 0}));
}

TEST(GptTest, PiecesComputeExactlyTheLoss) {
  Gpt m = Build(Tiny(), 5);
  const at::Tensor idx = torch::randint(0, 256, {2, 17}, torch::kInt64);
  const at::Tensor in = idx.narrow(1, 0, 16), tgt = idx.narrow(1, 1, 16);
  at::Tensor x = m->Embed(in);
  for (int i = 0; i < 2; ++i) x = m->RunBlock(i, x);
  EXPECT_TRUE(torch::equal(m->HeadLoss(x, tgt), m->Loss(in, tgt)));
  EXPECT_TRUE(torch::equal(m->Head(x), m->forward(in)));
}

TEST(GptTest, RejectsSequencesLongerThanThePositionTable) {
  Gpt m = Build(Tiny(), 5);
  EXPECT_THROW(m->forward(torch::zeros({1, 17}, torch::kInt64)), c10::Error);
}

}  // namespace
}  // namespace dstrain::models
