#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "common/config/job_config.h"
#include "common/sizing/activation_estimate.h"
#include "common/sizing/gpt_size.h"
#include "common/sizing/memory_plan.h"
#include "common/sizing/model_state_formula.h"
#include "common/sizing/step_collectives.h"
#include "common/units.h"

namespace dstrain::sizing {
namespace {

// GPT-2 XL's shape (1.5B) and a 7B GPT of LLaMA-7B's shape.
config::ModelConfig Gpt1_5B() {
  config::ModelConfig m;
  m.vocab = 50257;
  m.layers = 48;
  m.d_model = 1600;
  m.heads = 25;
  m.seq_len = 1024;
  return m;
}

config::ModelConfig Gpt7B() {
  config::ModelConfig m;
  m.vocab = 32000;
  m.layers = 32;
  m.d_model = 4096;
  m.heads = 32;
  m.seq_len = 2048;
  return m;
}

// Written out by hand: embeddings + final norm, and per block
// 12C² + 12C (F = 4C: 4C² + 8C² matrices; 8C + F biases and gains).
std::int64_t HandCount(std::int64_t v, std::int64_t t, std::int64_t c,
                       std::int64_t l) {
  return v * c + t * c + 2 * c + l * (12 * c * c + 12 * c);
}

TEST(GptSizeTest, ParameterCountIsTheHandFormula) {
  EXPECT_EQ(GptParameterCount(Gpt1_5B()), HandCount(50257, 1024, 1600, 48));
  EXPECT_EQ(GptParameterCount(Gpt1_5B()), 1557534400);
  EXPECT_EQ(GptParameterCount(Gpt7B()), HandCount(32000, 2048, 4096, 32));
  EXPECT_EQ(GptParameterCount(Gpt7B()), 6583492608);
  const std::vector<std::int64_t> u = GptUnitNumels(Gpt7B());
  ASSERT_EQ(u.size(), 33u);
  EXPECT_EQ(u[0], 32000 * 4096 + 2048 * 4096 + 2 * 4096);
  EXPECT_EQ(u[1], 12 * 4096LL * 4096 + 12 * 4096);
}

TEST(GptSizeTest, FlopsPerTokenAreSixPerMatrixParameterPlusAttention) {
  const config::ModelConfig m = Gpt7B();
  const double c = 4096, l = 32, t = 2048, v = 32000;
  EXPECT_DOUBLE_EQ(GptTrainFlopsPerToken(m),
                   6 * (l * 12 * c * c + v * c) + 12 * l * t * c);
}

// Per-rank bytes of each stage, written out for bf16 (p = 2) on W ranks:
// P = Σ units padded to W, O = P/W.
//   0: params 2P + 4P,      grads 2P + 4P, optimizer 8P
//   1: params 2P + 4O + 2O, grads 2P + 4O, optimizer 8O
//   2: params 2P + 4O + 2O, grads 4O,      optimizer 8O
//   3: params 4O,           grads 4O,      optimizer 8O
// (2O: the bf16 copy of the shard the post-step all-gather sends.)
TEST(ModelStateTest, PerStageBytesEqualTheFormulasFor1_5BAnd7B) {
  for (const config::ModelConfig& m : {Gpt1_5B(), Gpt7B()}) {
    const std::vector<std::int64_t> units = GptUnitNumels(m);
    for (int w : {1, 8, 64, 1000}) {
      std::int64_t p = 0;
      for (std::int64_t n : units) p += (n + w - 1) / w * w;
      const std::int64_t o = p / w;
      const ModelStateBytes want[4] = {{6 * p, 6 * p, 8 * p},
                                       {2 * p + 6 * o, 2 * p + 4 * o, 8 * o},
                                       {2 * p + 6 * o, 4 * o, 8 * o},
                                       {4 * o, 4 * o, 8 * o}};
      for (int stage = 0; stage <= 3; ++stage) {
        const ModelStateBytes got = ExactModelStateBytes(stage, units, w, 2);
        EXPECT_EQ(got.params, want[stage].params) << stage << " W=" << w;
        EXPECT_EQ(got.grads, want[stage].grads) << stage << " W=" << w;
        EXPECT_EQ(got.optimizer, want[stage].optimizer) << stage << " W=" << w;
        // The paper's formula, up to padding (< W elements per unit) and
        // the in-flight shard copy.
        const ModelStateBytes paper =
            ExpectedModelStateBytes(stage, GptParameterCount(m), w, 2);
        EXPECT_NEAR(static_cast<double>(got.total()),
                    static_cast<double>(paper.total()) +
                        (stage == 1 || stage == 2 ? 2.0 * o : 0),
                    16.0 * w * static_cast<double>(units.size()));
      }
    }
  }
  // fp32 stage 0: the parameters are the master (16Ψ in all).
  const std::vector<std::int64_t> units = GptUnitNumels(Gpt1_5B());
  EXPECT_EQ(ExactModelStateBytes(0, units, 4, 4).total(),
            16 * GptParameterCount(Gpt1_5B()));
}

// 7B in bf16 with AdamW: 16 bytes per parameter in all stages at W = 1
// (105 GB), shared out over W ranks only by stage 3.
TEST(MemoryPlanTest, SevenBillionFitsAnH100OnlyWhenShardedOverEnoughRanks) {
  config::JobConfig job;
  job.model = Gpt7B();
  job.amp.dtype = config::AmpDtype::kBf16;
  job.train.micro_batch = 1;
  job.zero.stage = 3;
  const std::int64_t h100 = 80 * kGiB - kGiB;
  const MemoryPlan one = PlanMemory(job, 1, h100);
  for (const StageMemory& s : one.stages) EXPECT_EQ(s.fit, Fit::kDoesNotFit);
  const MemoryPlan eight = PlanMemory(job, 8, h100);
  EXPECT_EQ(eight.stages[0].fit, Fit::kDoesNotFit);
  EXPECT_NE(eight.stages[3].fit, Fit::kDoesNotFit);
  const std::optional<SmallestFit> f = FindSmallestFit(job, 8, h100);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->nodes, 1);
  EXPECT_EQ(f->stage, 1);  // 4Ψ + 12Ψ/8 = 39 GiB of model state
  // One rank per node: the stage-3 shard must drop under the device.
  const std::optional<SmallestFit> g = FindSmallestFit(job, 1, h100);
  ASSERT_TRUE(g.has_value());
  EXPECT_GT(g->nodes, 1);
  const MemoryPlan at = PlanMemory(job, g->nodes, h100);
  EXPECT_NE(at.stages[static_cast<std::size_t>(g->stage)].fit,
            Fit::kDoesNotFit);
  const MemoryPlan below = PlanMemory(job, g->nodes - 1, h100);
  for (const StageMemory& s : below.stages) EXPECT_EQ(s.fit, Fit::kDoesNotFit);
}

TEST(MemoryPlanTest, ActivationsAloneTooLargeFitNowhere) {
  config::JobConfig job;
  job.model = Gpt1_5B();
  job.train.micro_batch = 64;
  EXPECT_FALSE(FindSmallestFit(job, 8, 12 * kGiB).has_value());
}

// In bf16 a block keeps 22C + 4F bytes per token; with checkpointing only
// its fp32 input (4C) stays, and one block at a time is recomputed while
// the head's logits (V = 50257: larger than a block) set the peak.
TEST(MemoryPlanTest, CheckpointingKeepsOnlyEachBlocksInput) {
  const config::ModelConfig m = Gpt1_5B();
  const ActivationEstimate a = EstimateGptActivations(m, 4, 2);
  const std::int64_t t = 4 * 1024, c = 1600, f = 6400, v = 50257;
  const std::int64_t head = (8 * c + v * 10) * t;
  EXPECT_EQ(a.without_recompute, 48 * (22 * c + 4 * f) * t + head);
  EXPECT_EQ(a.with_recompute, 48 * 4 * c * t + head);
  // fp32: 4(9C + 2F) per block.
  const ActivationEstimate f32 = EstimateGptActivations(m, 4, 4);
  EXPECT_EQ(f32.without_recompute,
            48 * 4 * (9 * c + 2 * f) * t + (8 * c + v * 12) * t);
}

TEST(StepCollectivesTest, StageZeroIsOneAllReduceOfEveryGradient) {
  const std::vector<std::int64_t> units = {10, 7, 7};
  const std::vector<CollectiveCall> c =
      StepCollectives(units, {.stage = 0, .world = 4, .param_bytes = 2});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].kind, CollectiveKind::kAllReduce);
  EXPECT_EQ(c[0].bytes, (12 + 8 + 8) * 2);
  EXPECT_DOUBLE_EQ(SentBytesPerRank(c[0], 4), 2 * 0.75 * 56);
}

TEST(StepCollectivesTest, StageThreeGathersBlocksTwicePerMicroBatch) {
  const std::vector<std::int64_t> units = {10, 7, 7};
  const std::vector<CollectiveCall> c = StepCollectives(
      units, {.stage = 3, .world = 2, .param_bytes = 4, .grad_accum = 3});
  std::int64_t gathers = 0, reductions = 0;
  for (const CollectiveCall& k : c) {
    (k.kind == CollectiveKind::kAllGather ? gathers : reductions) += k.count;
  }
  EXPECT_EQ(gathers, 3 * (1 + 2 + 2));
  EXPECT_EQ(reductions, 3 * 3);
  const std::vector<CollectiveCall> keep =
      StepCollectives(units, {.stage = 3,
                              .world = 2,
                              .param_bytes = 4,
                              .grad_accum = 3,
                              .reshard_after_forward = false});
  gathers = 0;
  for (const CollectiveCall& k : keep) {
    if (k.kind == CollectiveKind::kAllGather) gathers += k.count;
  }
  EXPECT_EQ(gathers, 3 * 3);
  EXPECT_DOUBLE_EQ(SentBytesPerRank(c[0], 1), 0);
}

}  // namespace
}  // namespace dstrain::sizing
