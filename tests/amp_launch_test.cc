// `dstrain launch` with mixed precision, end to end: the real binary, an
// embedded coordinator and agent, two real `dstrain worker` processes over
// Gloo, `amp.dtype: bf16` with ZeRO stage 3. The job must finish (exit 0),
// learn, and every metrics.jsonl line must carry the loss scale (1: bf16
// needs no scaler) and the skipped-step count.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/util/dstrain_test.h"

namespace dstrain {
namespace {

using google::protobuf::Struct;
using testing::Num;

const char* kJob =
    "name: amp\n"
    "procs_per_node: 2\n"
    "device: cpu\n"
    "backend: gloo\n"
    "model: {type: gpt, vocab: 256, layers: 2, d_model: 32, heads: 2, "
    "seq_len: 32}\n"
    "data: {type: text, path: /usr/share/games/fortunes}\n"
    "train:\n"
    "  steps: 10\n"
    "  micro_batch: 4\n"
    "  optimizer: {type: adamw, lr: 1.0e-2}\n"
    "  schedule: {type: constant}\n"
    "zero: {stage: 3}\n"
    "amp: {dtype: bf16}\n";

using AmpLaunchTest = testing::DstrainTest;

TEST_F(AmpLaunchTest, Bf16JobOnTwoRanksFinishesAndReportsTheLossScale) {
  const std::string job = WriteFile("amp.yaml", kJob);
  const std::vector<Struct> lines =
      testing::ReadJsonLines(LaunchToSuccess(job, "run") / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 10u);
  for (const Struct& s : lines) {
    EXPECT_EQ(Num(s, "loss_scale"), 1.0);
    EXPECT_EQ(Num(s, "skipped_steps"), 0.0);
  }
  const double first = Num(lines.front(), "loss");
  const double last = Num(lines.back(), "loss");
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, first) << "the bf16 job did not learn";
}

}  // namespace
}  // namespace dstrain
