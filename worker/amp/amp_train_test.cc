// Mixed precision in the training step (amp.dtype), end to end: real Gloo
// between ranks that run as threads of this process, real training on a
// small corpus, through engine::Trainer.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/contract/metrics_lines.h"
#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "worker/engine/testing/rank_threads.h"
#include "worker/engine/testing/word_salad.h"

namespace dstrain::engine {
namespace {

using ::dstrain::testing::IsOk;

std::string WriteCorpus() {
  return dstrain::engine::testing::WordSaladCorpus(1);
}

config::JobConfig TinyJob(config::AmpDtype dtype, int stage, int steps) {
  config::JobConfig j;
  j.name = "amp_train_test";
  j.model.layers = 1;
  j.model.d_model = 32;
  j.model.heads = 2;
  j.model.seq_len = 16;
  j.model.d_ff = 64;
  j.data.path = WriteCorpus();
  j.data.prefetch = 2;
  j.train.steps = steps;
  j.train.micro_batch = 2;
  j.train.grad_accum = 1;
  j.train.optimizer.lr = 1e-2;
  j.train.schedule.warmup_steps = 2;
  j.train.clip_grad_norm = 1.0;
  j.train.seed = 42;
  j.zero.stage = stage;
  j.amp.dtype = dtype;
  j.fault_tolerance.hang_timeout_s = 60;
  return j;
}

using testing::Losses;
using testing::RankRun;

// Every rank on a thread, with the final parameters and each step's master
// digest; `inject(rank, step)` puts an inf into that rank's reduced
// gradient at that (1-based) step.
std::vector<RankRun> RunWorld(
    const config::JobConfig& job, int world,
    std::function<bool(int rank, int step)> inject = nullptr) {
  return testing::RunWorld(job, world,
                           {.final_parameters = true,
                            .master_digests = true,
                            .inject = std::move(inject)});
}

std::string Name(config::AmpDtype d) { return config::AmpDtypeName(d); }

TEST(AmpTrainTest, Fp16AndBf16TrainOnTwoRanksAndAgree) {
  const int steps = 12;
  const auto fp32 = RunWorld(TinyJob(config::AmpDtype::kOff, 0, steps), 2);
  ASSERT_THAT(fp32[0].status, IsOk()) << fp32[0].status.ToString();
  const double fp32_stage0_param_bytes = fp32[0].steps.back().param_bytes;
  for (config::AmpDtype dtype :
       {config::AmpDtype::kBf16, config::AmpDtype::kFp16}) {
    for (int stage : {0, 3}) {
      SCOPED_TRACE(Name(dtype) + ", zero stage " + std::to_string(stage));
      const auto runs = RunWorld(TinyJob(dtype, stage, steps), 2);
      for (const RankRun& r : runs) {
        ASSERT_THAT(r.status, IsOk()) << r.status.ToString();
        ASSERT_EQ(r.steps.size(), static_cast<size_t>(steps));
      }
      EXPECT_EQ(runs[0].result.param_digest, runs[1].result.param_digest);
      EXPECT_EQ(Losses(runs[0]), Losses(runs[1]));

      const std::vector<double> loss = Losses(runs[0]);
      EXPECT_NEAR(loss.front(), std::log(256.0), 0.2);
      const double last3 =
          (loss[steps - 1] + loss[steps - 2] + loss[steps - 3]) / 3;
      EXPECT_LT(last3, loss.front() - 1.0) << "loss did not fall";
      // Computing in the low dtype takes another path than fp32 (autocast
      // and the gathered dtype are in effect) ...
      // (fp32 runs repeat to the bit, so any step that differs shows it;
      // the largest differences are 1e-5..2e-4 of the loss.)
      const std::vector<double> fp32_loss = Losses(fp32[0]);
      double most = 0;
      for (int i = 0; i < steps; ++i) {
        most = std::max(most, std::abs(loss[i] - fp32_loss[i]) / fp32_loss[i]);
      }
      EXPECT_GT(most, 1e-5);
      // ... and stage 0 keeps its full parameters in 2 bytes beside the
      // fp32 master: 6 bytes a parameter against fp32's 4.
      if (stage == 0) {
        const double psi = static_cast<double>(runs[0].result.param_count);
        EXPECT_NEAR(runs[0].steps.back().param_bytes / psi, 6.0, 0.05);
        EXPECT_NEAR(fp32_stage0_param_bytes / psi, 4.0, 0.05);
      }

      for (const RankRun& r : runs) {
        int skipped = 0;
        for (const StepReport& s : r.steps) {
          skipped += s.skipped ? 1 : 0;
          EXPECT_EQ(s.skipped_steps, skipped) << "step " << s.step;
          if (dtype == config::AmpDtype::kBf16) {
            EXPECT_EQ(s.loss_scale, 1.0);
            EXPECT_FALSE(s.skipped);
          } else {
            // GradScaler's 2^16, halved once per skipped step before this
            // one; no growth within 2000 steps.
            const int before = skipped - (s.skipped ? 1 : 0);
            EXPECT_EQ(s.loss_scale, std::ldexp(65536.0, -before))
                << "step " << s.step;
          }
        }
        EXPECT_LE(skipped, 2);
      }
      const std::string line = contract::StepLine({}, runs[0].steps.front());
      EXPECT_NE(
          line.find(dtype == config::AmpDtype::kFp16 ? "\"loss_scale\":65536,"
                                                     : "\"loss_scale\":1,"),
          std::string::npos)
          << line;
    }
  }
}

// The acceptance: an inf injected on one rank only makes every rank
// skip the step. Rank 1's reduced gradient gets an inf at step k; on both
// ranks the master weights after step k equal those after step k-1, the
// scale is halved, and the next step trains again, identically everywhere.
TEST(AmpTrainTest, InfOnOneRankMakesEveryRankSkipThatStep) {
  const int k = 3, steps = k + 2;
  for (int stage : {0, 3}) {
    SCOPED_TRACE("zero stage " + std::to_string(stage));
    const auto runs =
        RunWorld(TinyJob(config::AmpDtype::kFp16, stage, steps), 2,
                 [](int rank, int step) { return rank == 1 && step == k; });
    for (int r = 0; r < 2; ++r) {
      SCOPED_TRACE("rank " + std::to_string(r));
      ASSERT_THAT(runs[r].status, IsOk()) << runs[r].status.ToString();
      const std::vector<std::string>& d = runs[r].master_digests;
      ASSERT_EQ(d.size(), static_cast<size_t>(steps));
      EXPECT_NE(d[k - 2], d[k - 3]);  // step k-1 trained
      EXPECT_EQ(d[k - 1], d[k - 2]);  // step k changed nothing
      EXPECT_NE(d[k], d[k - 1]);      // step k+1 trained again
      const std::vector<StepReport>& s = runs[r].steps;
      ASSERT_EQ(s.size(), static_cast<size_t>(steps));
      for (int i = 0; i < k - 1; ++i) {
        EXPECT_FALSE(s[i].skipped) << "step " << i + 1;
        EXPECT_EQ(s[i].loss_scale, 65536.0);
      }
      EXPECT_TRUE(s[k - 1].skipped);
      EXPECT_EQ(s[k - 1].skipped_steps, 1);
      EXPECT_EQ(s[k - 1].loss_scale, 65536.0);  // the scale step k used
      EXPECT_FALSE(s[k].skipped);
      EXPECT_EQ(s[k].loss_scale, 32768.0);  // halved for step k+1
      EXPECT_EQ(s[k + 1].loss_scale, 32768.0);
      EXPECT_EQ(s[k + 1].skipped_steps, 1);
    }
    EXPECT_EQ(runs[0].result.param_digest, runs[1].result.param_digest);
    EXPECT_EQ(Losses(runs[0]), Losses(runs[1]));
    if (stage == 0) {  // full replicas: the masters agree too
      EXPECT_EQ(runs[0].master_digests, runs[1].master_digests);
    }
  }
}

// bf16 has no scaler, like PyTorch's recipe without GradScaler: nothing is
// checked or skipped.
TEST(AmpTrainTest, Bf16NeverSkips) {
  const auto runs =
      RunWorld(TinyJob(config::AmpDtype::kBf16, 0, 3), 2,
               [](int rank, int step) { return rank == 1 && step == 2; });
  for (const RankRun& r : runs) {
    ASSERT_THAT(r.status, IsOk()) << r.status.ToString();
    for (const StepReport& s : r.steps) {
      EXPECT_FALSE(s.skipped);
      EXPECT_EQ(s.loss_scale, 1.0);
    }
  }
}

}  // namespace
}  // namespace dstrain::engine
