#include "worker/setup_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dstrain::worker {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

config::JobConfig Job() {
  config::JobConfig job;
  job.name = "charlm";
  job.model.layers = 2;
  job.model.d_model = 128;
  return job;
}

engine::TrainSetup MakeSetup() {
  engine::TrainSetup s;
  s.backend = "gloo";
  s.param_count = 412345;
  s.tokens_per_step = 2048;
  s.dataset_tokens = 5 << 20;
  s.dataset_files = 1;
  s.dataset = "1 text file, 5.2M bytes";
  s.setup_s = 0.4;
  return s;
}

TEST(SetupLineTest, SaysWhichEngineFeaturesAreOn) {
  config::JobConfig job = Job();
  job.zero.stage = 3;
  job.amp.dtype = config::AmpDtype::kBf16;
  job.recompute.enabled = true;
  job.checkpoint.every_steps = 25;
  job.checkpoint.async = true;
  const std::string line = SetupLine(job, 4, MakeSetup(), "runs/charlm/ckpt");
  EXPECT_THAT(line,
              AllOf(HasSubstr("job charlm, 4 ranks, backend gloo"),
                    HasSubstr("412.3K params"), HasSubstr("ZeRO stage 3"),
                    HasSubstr("AMP bf16"), HasSubstr("recompute on"),
                    HasSubstr("checkpoints every 25 steps (async) and at the "
                              "end in runs/charlm/ckpt"),
                    HasSubstr("data 1 text file, 5.2M bytes;")));
}

TEST(SetupLineTest, OffFeaturesAndOneRankReadAsEnglish) {
  const std::string line = SetupLine(Job(), 1, MakeSetup(), "ignored");
  EXPECT_THAT(line,
              AllOf(HasSubstr("1 rank, backend gloo"), Not(HasSubstr("ranks")),
                    HasSubstr("ZeRO stage 0"), HasSubstr("AMP off"),
                    HasSubstr("recompute off"), HasSubstr("checkpoints off"),
                    Not(HasSubstr("ignored"))));
}

}  // namespace
}  // namespace dstrain::worker
