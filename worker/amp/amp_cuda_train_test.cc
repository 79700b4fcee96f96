// Mixed-precision training on a GPU (label gpu): engine::Trainer with
// `device: cuda`, ZeRO stage 3 over an NCCL world of one rank, fp16 (with
// the loss scaler) and bf16; an injected overflow skips its step on CUDA.
// Every test skips when no CUDA device is usable.

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "worker/engine/testing/rank_threads.h"
#include "worker/engine/testing/word_salad.h"
#include "worker/engine/trainer.h"

namespace dstrain::engine {
namespace {

using ::dstrain::testing::IsOk;

std::string WriteCorpus() {
  return dstrain::engine::testing::WordSaladCorpus(1);
}

config::JobConfig CudaJob(config::AmpDtype dtype, int steps) {
  config::JobConfig j;
  j.name = "amp_cuda_train_test";
  j.device = config::Device::kCuda;
  j.backend = config::Backend::kAuto;  // nccl on cuda
  j.model.layers = 2;
  j.model.d_model = 64;
  j.model.heads = 4;
  j.model.seq_len = 32;
  j.data.path = WriteCorpus();
  j.train.steps = steps;
  j.train.micro_batch = 8;
  j.train.optimizer.lr = 1e-2;
  j.train.schedule.type = "constant";
  j.train.clip_grad_norm = 1.0;
  j.train.seed = 7;
  j.zero.stage = 3;
  j.recompute.enabled = true;
  j.amp.dtype = dtype;
  j.fault_tolerance.hang_timeout_s = 120;
  return j;
}

class AmpCudaTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  }

  // One rank: an NCCL world of one on cuda:0.
  StatusOr<TrainResult> Run(
      const config::JobConfig& job, std::vector<StepReport>& steps,
      std::function<bool(int)> inject = nullptr,
      std::function<void(int, const std::string&)> digests = nullptr) {
    testing::WorldOptions options;
    options.master_digests = digests != nullptr;
    if (inject) {
      options.inject = [inject](int, int step) { return inject(step); };
    }
    const testing::RankRun r = testing::RunRank(
        job, RankContext{}, std::make_shared<rendezvous::InMemoryKvStore>(),
        options);
    steps = r.steps;
    backend_ = r.setup.backend;
    for (std::size_t i = 0; i < r.master_digests.size(); ++i) {
      digests(static_cast<int>(i) + 1, r.master_digests[i]);
    }
    if (!r.status.ok()) return r.status;
    return r.result;
  }
  std::string backend_;
};

TEST_F(AmpCudaTrainTest, ZeroThreeFp16AndBf16TrainOnCuda) {
  const int steps = 30;
  for (config::AmpDtype dtype :
       {config::AmpDtype::kFp16, config::AmpDtype::kBf16}) {
    SCOPED_TRACE(config::AmpDtypeName(dtype));
    std::vector<StepReport> s;
    StatusOr<TrainResult> r = Run(CudaJob(dtype, steps), s);
    ASSERT_THAT(r, IsOk()) << r.status().ToString();
    EXPECT_EQ(backend_, "nccl");
    ASSERT_EQ(s.size(), static_cast<size_t>(steps));
    EXPECT_NEAR(s.front().loss, std::log(256.0), 0.3);
    const double last3 =
        (s[steps - 1].loss + s[steps - 2].loss + s[steps - 3].loss) / 3;
    EXPECT_TRUE(std::isfinite(last3));
    EXPECT_LT(last3, s.front().loss - 1.0) << "loss did not fall";
    EXPECT_EQ(s.front().loss_scale,
              dtype == config::AmpDtype::kFp16 ? 65536.0 : 1.0);
    EXPECT_LT(s.back().skipped_steps, steps / 2);
  }
}

TEST_F(AmpCudaTrainTest, InjectedOverflowSkipsTheStepOnCuda) {
  const int k = 4, steps = k + 2;
  std::vector<StepReport> s;
  std::vector<std::string> digests;
  StatusOr<TrainResult> r = Run(
      CudaJob(config::AmpDtype::kFp16, steps), s,
      [](int step) { return step == k; },
      [&](int, const std::string& d) { digests.push_back(d); });
  ASSERT_THAT(r, IsOk()) << r.status().ToString();
  ASSERT_EQ(s.size(), static_cast<size_t>(steps));
  ASSERT_EQ(digests.size(), static_cast<size_t>(steps));
  EXPECT_TRUE(s[k - 1].skipped);
  EXPECT_EQ(digests[k - 1], digests[k - 2]);  // step k changed nothing
  EXPECT_NE(digests[k], digests[k - 1]);      // step k+1 trained
  EXPECT_EQ(s[k].loss_scale, s[k - 1].loss_scale / 2);
  EXPECT_EQ(s[k].skipped_steps, s[k - 2].skipped_steps + 1);
}

}  // namespace
}  // namespace dstrain::engine
