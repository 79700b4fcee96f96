// Segments and activation checkpointing on the GPT, one thread (dropout
// uses the process-wide generator).

#include "worker/recompute/segment.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "worker/base/memory_tracker.h"
#include "worker/models/gpt.h"
#include "worker/recompute/saved_state.h"

namespace dstrain::recompute {
namespace {

models::Gpt Build(double dropout, int layers = 2) {
  models::GptOptions o;
  o.layers = layers;
  o.d_model = 32;
  o.heads = 4;
  o.seq_len = 16;
  o.d_ff = 64;
  o.dropout = dropout;
  models::Gpt m(o);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(3);
  m->ResetParameters(g);
  m->train();
  return m;
}

at::Tensor Tokens() {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(11);
  return torch::randint(0, 256, {4, 17}, g, torch::kInt64);
}

// The GPT's loss as segments: embeddings, each block (recomputed when
// asked), head.
at::Tensor SegmentedLoss(models::GptImpl& m, const at::Tensor& tokens,
                         bool recompute, const at::Tensor& anchor,
                         std::vector<std::string>* events = nullptr) {
  const at::Tensor idx = tokens.narrow(1, 0, 16);
  const at::Tensor tgt = tokens.narrow(1, 1, 16);
  auto hooks = [events](const std::string& name) {
    SegmentHooks h;
    if (events != nullptr) {
      h.before_backward = [events, name] { events->push_back("+" + name); };
      h.after_backward = [events, name] { events->push_back("-" + name); };
    }
    return h;
  };
  SegmentOptions plain;
  SegmentOptions block;
  block.recompute = recompute;
  at::Tensor x =
      RunSegment([&m, idx](const at::Tensor&) { return m.Embed(idx); },
                 at::Tensor(), plain, hooks("embed"), anchor);
  for (int i = 0; i < m.options().layers; ++i) {
    x = RunSegment([&m, i](const at::Tensor& in) { return m.RunBlock(i, in); },
                   x, block, hooks("block" + std::to_string(i)), anchor);
  }
  return RunSegment(
      [&m, tgt](const at::Tensor& in) { return m.HeadLoss(in, tgt); }, x, plain,
      hooks("head"), anchor);
}

std::vector<at::Tensor> Grads(models::GptImpl& m) {
  std::vector<at::Tensor> out;
  for (const at::Tensor& p : m.parameters()) {
    EXPECT_TRUE(p.grad().defined());
    out.push_back(p.grad().clone());
    p.mutable_grad().reset();
  }
  return out;
}

void ExpectClose(const std::vector<at::Tensor>& a,
                 const std::vector<at::Tensor>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double diff = (a[i] - b[i]).abs().max().item<double>();
    EXPECT_LE(diff, tol) << "parameter " << i;
  }
}

at::Tensor Anchor() { return torch::empty({0}).requires_grad_(true); }

TEST(SegmentTest, SegmentsGiveTheGradientsOfThePlainGraph) {
  models::Gpt m = Build(0.0);
  const at::Tensor tokens = Tokens();
  m->Loss(tokens.narrow(1, 0, 16), tokens.narrow(1, 1, 16)).backward();
  const std::vector<at::Tensor> plain = Grads(*m);
  const at::Tensor anchor = Anchor();
  const at::Tensor loss = SegmentedLoss(*m, tokens, false, anchor);
  loss.backward();
  const std::vector<at::Tensor> segmented = Grads(*m);
  ExpectClose(segmented, plain, 0.0);
  EXPECT_FALSE(anchor.grad().defined());
}

// The acceptance check: with dropout on, recomputed blocks see the same
// masks, so gradients agree (to the bit here; 1e-6 is the bar), and the
// random stream continues as if nothing had been recomputed.
TEST(SegmentTest, RecomputeMatchesWithDropout) {
  models::Gpt m = Build(0.1);
  const at::Tensor tokens = Tokens();
  const at::Tensor anchor = Anchor();

  torch::manual_seed(77);
  const double kept_loss =
      SegmentedLoss(*m, tokens, false, anchor).item<double>();
  torch::manual_seed(77);
  SegmentedLoss(*m, tokens, false, anchor).backward();
  const std::vector<at::Tensor> kept = Grads(*m);
  const at::Tensor rng_after_kept = RngState::Capture(false).cpu;

  torch::manual_seed(77);
  const at::Tensor loss = SegmentedLoss(*m, tokens, true, anchor);
  EXPECT_EQ(loss.item<double>(), kept_loss);
  loss.backward();
  const std::vector<at::Tensor> recomputed = Grads(*m);
  ExpectClose(recomputed, kept, 1e-6);
  ExpectClose(recomputed, kept, 0.0);
  EXPECT_TRUE(torch::equal(RngState::Capture(false).cpu, rng_after_kept));

  // Without restoring the generator the masks differ: the test would see
  // a broken restore.
  torch::manual_seed(77);
  const at::Tensor l2 = SegmentedLoss(*m, tokens, true, anchor);
  torch::manual_seed(1);  // disturb nothing the segments saved
  l2.backward();
  ExpectClose(Grads(*m), kept, 0.0);
}

TEST(SegmentTest, RecomputeUnderAutocastMatches) {
  models::Gpt m = Build(0.0);
  const at::Tensor tokens = Tokens();
  const at::Tensor anchor = Anchor();
  AutocastState bf16;
  bf16.cpu_enabled = true;
  bf16.cpu_dtype = at::kBFloat16;
  at::Tensor kept_loss;
  {
    AutocastScope autocast(bf16);
    kept_loss = SegmentedLoss(*m, tokens, false, anchor);
  }
  kept_loss.backward();  // outside autocast, as training loops do
  const std::vector<at::Tensor> kept = Grads(*m);
  at::Tensor loss;
  {
    AutocastScope autocast(bf16);
    loss = SegmentedLoss(*m, tokens, true, anchor);
  }
  EXPECT_FALSE(AutocastState::Capture().cpu_enabled);
  loss.backward();
  ExpectClose(Grads(*m), kept, 0.0);
  // And the blocks really ran in bf16 (a fp32 recompute would differ).
  const at::Tensor fp32_loss = SegmentedLoss(*m, tokens, false, anchor);
  EXPECT_NE(fp32_loss.item<double>(), kept_loss.item<double>());
}

TEST(SegmentTest, AutocastScopeEntersAndLeavesLikeTorchAutocast) {
  AutocastState s;
  s.cpu_enabled = true;
  s.cpu_dtype = at::kBFloat16;
  s.cache_enabled = false;
  const AutocastState before = AutocastState::Capture();
  {
    AutocastScope scope(s);
    const AutocastState in = AutocastState::Capture();
    EXPECT_TRUE(in.cpu_enabled);
    EXPECT_EQ(in.cpu_dtype, at::kBFloat16);
    EXPECT_FALSE(in.cache_enabled);
  }
  const AutocastState after = AutocastState::Capture();
  EXPECT_EQ(after.cpu_enabled, before.cpu_enabled);
  EXPECT_EQ(after.cpu_dtype, before.cpu_dtype);
  EXPECT_EQ(after.cache_enabled, before.cache_enabled);
}

TEST(SegmentTest, HooksBracketEachSegmentsBackwardInReverseOrder) {
  models::Gpt m = Build(0.0);
  std::vector<std::string> events;
  SegmentedLoss(*m, Tokens(), true, Anchor(), &events).backward();
  EXPECT_EQ(events, (std::vector<std::string>{"+head", "-head", "+block1",
                                              "-block1", "+block0", "-block0",
                                              "+embed", "-embed"}));
}

TEST(SegmentTest, GradientsAreCompleteWhenAfterBackwardRuns) {
  models::Gpt m = Build(0.0);
  const at::Tensor tokens = Tokens();
  m->Loss(tokens.narrow(1, 0, 16), tokens.narrow(1, 1, 16)).backward();
  const std::vector<at::Tensor> want = Grads(*m);
  auto* block = m->blocks[1]->as<models::Block>();
  at::Tensor seen;
  const at::Tensor idx = tokens.narrow(1, 0, 16);
  const at::Tensor tgt = tokens.narrow(1, 1, 16);
  const at::Tensor anchor = Anchor();
  for (bool recompute : {false, true}) {
    at::Tensor x = RunSegment([&](const at::Tensor&) { return m->Embed(idx); },
                              at::Tensor(), {}, {}, anchor);
    x = RunSegment([&](const at::Tensor& in) { return m->RunBlock(0, in); }, x,
                   {recompute}, {}, anchor);
    SegmentHooks h;
    h.after_backward = [&] { seen = block->mlp->fc->weight.grad().clone(); };
    x = RunSegment([&](const at::Tensor& in) { return m->RunBlock(1, in); }, x,
                   {recompute}, h, anchor);
    RunSegment([&](const at::Tensor& in) { return m->HeadLoss(in, tgt); }, x,
               {}, {}, anchor)
        .backward();
    ASSERT_TRUE(seen.defined());
    EXPECT_TRUE(torch::equal(seen, block->mlp->fc->weight.grad()));
    Grads(*m);
  }
}

TEST(SegmentTest, RecomputeKeepsOnlyTheBlockInputs) {
  base::InstallCountingCpuAllocator();
  models::Gpt m = Build(0.0, /*layers=*/6);
  const at::Tensor tokens = Tokens();
  const at::Tensor anchor = Anchor();
  std::int64_t held[2];
  for (bool recompute : {false, true}) {
    base::MemoryTracker* t = base::MemoryTracker::Create();
    base::ScopedMemoryTracker scope(t);
    at::Tensor loss = SegmentedLoss(*m, tokens, recompute, anchor);
    held[recompute] = t->live(base::MemoryCategory::kActivation);
    loss.backward();
    Grads(*m);
  }
  // Six blocks' inputs (4 x 16 x 32 floats each) against every block's
  // attention and MLP activations.
  EXPECT_LT(held[1] * 3, held[0]) << held[1] << " vs " << held[0];
}

TEST(SegmentTest, WithoutGradModeItIsJustTheFunction) {
  torch::NoGradGuard no_grad;
  const at::Tensor x = torch::ones({3});
  int calls = 0;
  const at::Tensor y = RunSegment(
      [&](const at::Tensor& in) {
        ++calls;
        return in * 2;
      },
      x, {true}, {}, at::Tensor());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(torch::equal(y, torch::full({3}, 2.0)));
}

}  // namespace
}  // namespace dstrain::recompute
