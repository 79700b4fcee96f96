// Checkpoints on a GPU (label gpu): engine::Trainer with `device: cuda`
// over an NCCL world of one, dropout on. The masks come from the GPU's
// generator, so a run stopped at step 30 and resumed continues bitwise as
// the uninterrupted one only if the shard carried that generator's state.
// Skips when no CUDA device is usable.

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "worker/checkpoint/shard_file.h"
#include "worker/engine/testing/rank_threads.h"
#include "worker/engine/testing/word_salad.h"
#include "worker/engine/trainer.h"

namespace dstrain::checkpoint {
namespace {

using ::dstrain::testing::IsOk;

using engine::RankContext;
using engine::StepReport;
using engine::TrainResult;

std::string TempDir(const char* what) {
  std::string tmpl = std::string("/tmp/dstrain_ckpt_cuda_") + what + "_XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::string Corpus() { return dstrain::engine::testing::WordSaladCorpus(11); }

config::JobConfig CudaJob(const std::string& ckpt_dir) {
  config::JobConfig j;
  j.name = "ckpt_cuda_test";
  j.device = config::Device::kCuda;
  j.backend = config::Backend::kAuto;  // nccl on cuda
  j.model.layers = 2;
  j.model.d_model = 64;
  j.model.heads = 4;
  j.model.seq_len = 32;
  j.model.dropout = 0.1;
  j.data.path = Corpus();
  j.train.steps = 50;
  j.train.micro_batch = 4;
  j.train.optimizer.lr = 3e-3;
  j.train.schedule.warmup_steps = 5;
  j.train.seed = 7;
  j.zero.stage = 3;
  j.recompute.enabled = true;
  j.checkpoint.dir = ckpt_dir;
  j.checkpoint.every_steps = ckpt_dir.empty() ? 0 : 10;
  j.fault_tolerance.hang_timeout_s = 120;
  return j;
}

struct RunLog {
  std::vector<double> losses;
  TrainResult result;
};

RunLog Train(const config::JobConfig& job, bool resume, int stop_after) {
  engine::testing::WorldOptions options;
  options.resume = resume;
  options.stop_after_step = stop_after;
  const engine::testing::RankRun r = engine::testing::RunRank(
      job, RankContext{}, std::make_shared<rendezvous::InMemoryKvStore>(),
      options);
  EXPECT_THAT(r.status, IsOk()) << r.status.ToString();
  RunLog run;
  run.losses = engine::testing::Losses(r);
  run.result = r.result;
  return run;
}

TEST(CheckpointCudaTest, DropoutOnTheGpuResumesWithTheSameRandomStream) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const RunLog ref = Train(CudaJob(""), false, 0);
  ASSERT_EQ(ref.losses.size(), 50u);
  const std::string dir = TempDir("resume");
  Train(CudaJob(dir), false, /*stop_after=*/30);
  const RunLog resumed = Train(CudaJob(dir), /*resume=*/true, 0);
  EXPECT_EQ(resumed.result.resumed_from_step, 30);
  ASSERT_EQ(resumed.losses.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(resumed.losses[i], ref.losses[30 + i]) << "step " << 31 + i;
  }
  EXPECT_EQ(resumed.result.param_digest, ref.result.param_digest);
  (void)RemoveTree(dir);
}

}  // namespace
}  // namespace dstrain::checkpoint
