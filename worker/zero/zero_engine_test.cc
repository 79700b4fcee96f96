// The ZeRO engine on the GPT with real Gloo between ranks that are threads
// of this process: gradients against an unsharded reference, what stage 3
// gathers and releases, and the model state each stage holds.

#include "worker/zero/zero_engine.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "worker/comm/gloo_communicator.h"
#include "worker/engine/gpt_model.h"
#include "worker/models/gpt.h"

namespace dstrain::zero {
namespace {

using ::dstrain::sizing::ExpectedModelStateBytes;
using ::dstrain::sizing::ModelStateBytes;

using ::dstrain::testing::IsOk;

constexpr int kBatch = 8;
constexpr int kSeq = 16;

models::GptOptions Tiny(int layers = 2) {
  models::GptOptions o;
  o.layers = layers;
  o.d_model = 32;
  o.heads = 4;
  o.seq_len = kSeq;
  o.d_ff = 64;
  return o;
}

models::Gpt Build(const models::GptOptions& o) {
  models::Gpt m(o);
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(5);
  m->ResetParameters(g);
  m->train();
  return m;
}

at::Tensor Tokens() {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(9);
  return torch::randint(0, 256, {kBatch, kSeq + 1}, g, torch::kInt64);
}

config::OptimizerConfig Adam() { return config::OptimizerConfig{}; }

// Runs body(comm) on `world` threads, each a rank with its own Gloo group.
template <typename Body>
void RunRanks(int world, const Body& body) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      comm::GlooOptions o;
      o.timeout = std::chrono::seconds(60);
      auto c = comm::CreateGlooCommunicator(store, r, world, o);
      ASSERT_THAT(c, IsOk()) << c.status().ToString();
      body(**c);
      ASSERT_THAT(comm::Await((*c)->Barrier()), IsOk());
    });
  }
  for (std::thread& t : threads) t.join();
}

std::unique_ptr<ZeroEngine> MakeEngine(models::GptImpl& m,
                                       comm::Communicator& c,
                                       const ZeroOptions& o) {
  auto e = ZeroEngine::Create(m.Units(), m.UnitForwardOrder(), c, o, Adam());
  EXPECT_THAT(e, IsOk()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

// The full-batch gradient of an unsharded model, per unit in unit layout.
std::vector<at::Tensor> ReferenceGrads(const models::GptOptions& o,
                                       const std::vector<UnitLayout>& l) {
  models::Gpt m = Build(o);
  const at::Tensor t = Tokens();
  m->Loss(t.narrow(1, 0, kSeq), t.narrow(1, 1, kSeq)).backward();
  const std::vector<models::ModelUnit> units = m->Units();
  std::vector<at::Tensor> out;
  for (std::size_t u = 0; u < units.size(); ++u) {
    at::Tensor flat = torch::zeros({l[u].padded_numel});
    for (const ParamSlot& s : l[u].params) {
      flat.narrow(0, s.offset, s.spec.numel())
          .copy_(units[u].params[s.index].second.grad().reshape({-1}));
    }
    out.push_back(flat);
  }
  return out;
}

struct Case {
  int stage;
  int world;
  int accum;
};

class ZeroGradTest : public ::testing::TestWithParam<Case> {};

// After the last micro-batch each rank holds, for every unit, the slice it
// owns of the global-batch gradient an unsharded model computes.
TEST_P(ZeroGradTest, ReducedGradientsMatchTheUnshardedReference) {
  const Case c = GetParam();
  const models::GptOptions o = Tiny();
  RunRanks(c.world, [&](comm::Communicator& comm) {
    models::Gpt m = Build(o);
    ZeroOptions zo;
    zo.stage = c.stage;
    auto e = MakeEngine(*m, comm, zo);
    ASSERT_NE(e, nullptr);
    const at::Tensor all = Tokens();
    const int per_rank = kBatch / c.world;
    const int per_micro = per_rank / c.accum;
    e->BeginStep();
    for (int micro = 0; micro < c.accum; ++micro) {
      const at::Tensor t =
          all.narrow(0, comm.rank() * per_rank + micro * per_micro, per_micro);
      e->BeginMicroBatch();
      const at::Tensor loss = engine::ShardedGptLoss(
          *m, *e, t.narrow(1, 0, kSeq), t.narrow(1, 1, kSeq));
      (c.accum > 1 ? loss / c.accum : loss).backward();
      e->FinishMicroBatch(micro == c.accum - 1);
    }
    const std::vector<at::Tensor> want = ReferenceGrads(o, e->layouts());
    for (std::size_t u = 0; u < want.size(); ++u) {
      const IndexRange own = e->arena().owned[u];
      const at::Tensor mine =
          e->grads().narrow(0, e->arena().offset[u], own.size());
      const at::Tensor ref = want[u].narrow(0, own.begin, own.size());
      EXPECT_LE((mine - ref).abs().max().item<double>(), 1e-6)
          << "unit " << u << " rank " << comm.rank();
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Stages, ZeroGradTest,
                         ::testing::Values(Case{0, 1, 1}, Case{0, 2, 1},
                                           Case{1, 2, 1}, Case{2, 2, 1},
                                           Case{3, 1, 1}, Case{3, 2, 1},
                                           Case{3, 4, 1}, Case{1, 4, 2},
                                           Case{2, 2, 2}, Case{3, 2, 2}),
                         [](const ::testing::TestParamInfo<Case>& i) {
                           return "stage" + std::to_string(i.param.stage) +
                                  "_w" + std::to_string(i.param.world) +
                                  "_accum" + std::to_string(i.param.accum);
                         });

bool Held(const at::Tensor& p) { return p.storage().nbytes() > 0; }

// A stage-3 unit's parameters hold memory only around its use: at block
// i's forward, at most `prefetch` other blocks are gathered; the root stays
// gathered through the whole forward.
TEST(ZeroEngineTest, StageThreeReleasesUnitsBetweenUses) {
  const models::GptOptions o = Tiny(/*layers=*/4);
  RunRanks(2, [&](comm::Communicator& comm) {
    models::Gpt m = Build(o);
    ZeroOptions zo;
    zo.stage = 3;
    zo.prefetch = 1;
    auto e = MakeEngine(*m, comm, zo);
    ASSERT_NE(e, nullptr);
    auto first_param = [&](int block) {
      return m->blocks[block]->as<models::Block>()->ln1->weight;
    };
    for (int b = 0; b < 4; ++b) EXPECT_FALSE(Held(first_param(b)));
    EXPECT_FALSE(Held(m->tok_emb->weight));

    const at::Tensor t = Tokens().narrow(0, comm.rank() * 4, 4);
    e->BeginStep();
    e->BeginMicroBatch();
    int max_others = 0;
    at::Tensor x = e->Run(0, at::Tensor(), [&](const at::Tensor&) {
      return m->Embed(t.narrow(1, 0, kSeq));
    });
    for (int i = 0; i < 4; ++i) {
      x = e->Run(1 + i, x, [&, i](const at::Tensor& in) {
        EXPECT_TRUE(Held(first_param(i)));
        EXPECT_TRUE(Held(m->tok_emb->weight));
        int others = 0;
        for (int b = 0; b < 4; ++b) others += b != i && Held(first_param(b));
        max_others = std::max(max_others, others);
        return m->RunBlock(i, in);
      });
    }
    const at::Tensor loss = e->Run(0, x, [&](const at::Tensor& in) {
      return m->HeadLoss(in, t.narrow(1, 1, kSeq));
    });
    EXPECT_EQ(max_others, 1);
    for (int b = 0; b < 4; ++b) EXPECT_FALSE(Held(first_param(b))) << b;
    EXPECT_TRUE(Held(m->tok_emb->weight));  // the root waits for backward
    loss.backward();
    e->FinishMicroBatch(true);
    EXPECT_FALSE(Held(m->tok_emb->weight));
    // One gather per block in forward, one in backward, one for the root.
    EXPECT_EQ(e->memory().gathers, 2 * 4 + 1);
  });
}

// Two gathers per unit per step with recompute too (the recompute gather
// is the backward gather), one without resharding after forward.
TEST(ZeroEngineTest, GathersPerStep) {
  const models::GptOptions o = Tiny(/*layers=*/3);
  struct Want {
    bool recompute;
    bool reshard;
    std::int64_t gathers;
  };
  for (const Want w : {Want{false, true, 7}, Want{true, true, 7},
                       Want{false, false, 4}, Want{true, false, 4}}) {
    RunRanks(2, [&](comm::Communicator& comm) {
      models::Gpt m = Build(o);
      ZeroOptions zo;
      zo.stage = 3;
      zo.recompute = w.recompute;
      zo.reshard_after_forward = w.reshard;
      auto e = MakeEngine(*m, comm, zo);
      ASSERT_NE(e, nullptr);
      const at::Tensor t = Tokens().narrow(0, comm.rank() * 4, 4);
      for (int step = 0; step < 2; ++step) {
        e->BeginStep();
        e->BeginMicroBatch();
        engine::ShardedGptLoss(*m, *e, t.narrow(1, 0, kSeq),
                               t.narrow(1, 1, kSeq))
            .backward();
        e->FinishMicroBatch(true);
        EXPECT_EQ(e->memory().gathers, w.gathers)
            << "recompute " << w.recompute << " reshard " << w.reshard;
        e->Step(1e-3);
      }
    });
  }
}

// Model state at rest against the formula of model_state_formula.h (the
// only difference: padding each unit to a multiple of W).
TEST(ZeroEngineTest, ModelStateAtRestFollowsTheFormula) {
  const models::GptOptions o = Tiny(/*layers=*/3);
  for (int stage = 0; stage <= 3; ++stage) {
    for (int world : {1, 2, 4}) {
      RunRanks(world, [&](comm::Communicator& comm) {
        models::Gpt m = Build(o);
        ZeroOptions zo;
        zo.stage = stage;
        auto e = MakeEngine(*m, comm, zo);
        ASSERT_NE(e, nullptr);
        std::int64_t padded = 0;
        for (const UnitLayout& l : e->layouts()) padded += l.padded_numel;
        const std::int64_t shard = padded / world;
        const std::int64_t owned = stage == 0 ? padded : shard;
        const MemoryStats s = e->memory();
        const std::int64_t full = stage <= 2 ? 4 * padded : 0;
        EXPECT_EQ(s.now.params, full + (stage == 0 ? 0 : 4 * shard));
        EXPECT_EQ(s.now.grads,
                  (stage <= 1 ? 4 * padded : 0) + (stage == 0 ? 0 : 4 * owned));
        EXPECT_EQ(s.now.optimizer, 8 * owned);
        const ModelStateBytes f =
            ExpectedModelStateBytes(stage, e->param_count(), world, 4);
        const double rel =
            std::abs(double(s.now.total()) - f.total()) / f.total();
        EXPECT_LT(rel, 0.01) << "stage " << stage << " world " << world;
      });
    }
  }
}

// During a stage-3 step the model state grows by gathered units and full
// gradients only: never by the whole model.
TEST(ZeroEngineTest, StageThreePeakStaysFarBelowTheFullModel) {
  const models::GptOptions o = Tiny(/*layers=*/6);
  RunRanks(2, [&](comm::Communicator& comm) {
    models::Gpt m = Build(o);
    ZeroOptions zo;
    zo.stage = 3;
    auto e = MakeEngine(*m, comm, zo);
    ASSERT_NE(e, nullptr);
    const at::Tensor t = Tokens().narrow(0, comm.rank() * 4, 4);
    e->BeginStep();
    e->BeginMicroBatch();
    engine::ShardedGptLoss(*m, *e, t.narrow(1, 0, kSeq), t.narrow(1, 1, kSeq))
        .backward();
    e->FinishMicroBatch(true);
    const MemoryStats s = e->memory();
    std::int64_t block = 0, root = e->layouts()[0].padded_numel * 4;
    for (std::size_t u = 1; u < e->layouts().size(); ++u) {
      block = std::max(block, e->layouts()[u].padded_numel * 4);
    }
    const std::int64_t transient = s.peak_model_state - s.now.total();
    EXPECT_GT(transient, 0);
    // The root's parameters and gradient, two blocks' parameters, a few
    // blocks' gradients in flight: far from all six blocks twice.
    EXPECT_LE(transient, 2 * root + 6 * block);
    EXPECT_LT(transient, 2 * root + 12 * block);
  });
}

TEST(ZeroEngineTest, RunRefusesSegmentsOutOfOrder) {
  RunRanks(1, [&](comm::Communicator& comm) {
    models::Gpt m = Build(Tiny());
    auto e = MakeEngine(*m, comm, ZeroOptions{});
    ASSERT_NE(e, nullptr);
    e->BeginMicroBatch();
    EXPECT_THROW(e->Run(1, at::Tensor(), [](const at::Tensor& x) { return x; }),
                 c10::Error);
  });
}

TEST(ZeroEngineTest, CreateRefusesBadOptions) {
  RunRanks(1, [&](comm::Communicator& comm) {
    models::Gpt m = Build(Tiny());
    ZeroOptions zo;
    zo.stage = 4;
    auto e =
        ZeroEngine::Create(m->Units(), m->UnitForwardOrder(), comm, zo, Adam());
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    zo.stage = 3;
    auto bad = ZeroEngine::Create(m->Units(), {0, 1}, comm, zo, Adam());
    EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  });
}

}  // namespace
}  // namespace dstrain::zero
