// `dstrain launch` with ZeRO stage 3 and activation checkpointing, end to
// end: the real binary, an embedded coordinator and agent, two real
// `dstrain worker` processes over Gloo. The sharded run must train exactly
// like plain data parallelism (losses within 1e-5 relative, every step) and
// report its memory in metrics.jsonl.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/util/dstrain_test.h"

namespace dstrain {
namespace {

using google::protobuf::Struct;
using testing::Num;
using testing::ReadJsonLines;

// Dropout on: recompute must reproduce the masks for the losses to match.
const char* kJob =
    "name: zero\n"
    "procs_per_node: 2\n"
    "device: cpu\n"
    "backend: gloo\n"
    "model: {type: gpt, vocab: 256, layers: 2, d_model: 32, heads: 2, "
    "seq_len: 32, dropout: 0.1}\n"
    "data: {type: text, path: /usr/share/games/fortunes}\n"
    "train:\n"
    "  steps: 12\n"
    "  micro_batch: 4\n"
    "  optimizer: {type: adamw, lr: 1.0e-2}\n"
    "  schedule: {type: constant}\n";

class ZeroLaunchTest : public testing::DstrainTest {
 protected:
  // Runs the job to completion with `sets`; returns rank 0's metrics lines.
  std::vector<Struct> Launch(const std::string& run,
                             const std::vector<std::string>& sets) {
    std::vector<std::string> extra;
    for (const std::string& s : sets) {
      extra.push_back("--set");
      extra.push_back(s);
    }
    const std::string job = WriteFile("zero.yaml", kJob);
    return ReadJsonLines(LaunchToSuccess(job, run, extra) / "metrics.jsonl");
  }
};

TEST_F(ZeroLaunchTest, StageThreeWithRecomputeTrainsLikeStageZero) {
  const std::vector<Struct> plain = Launch("plain", {});
  const std::vector<Struct> sharded =
      Launch("sharded", {"zero.stage=3", "recompute.enabled=true"});
  ASSERT_EQ(plain.size(), 12u);
  ASSERT_EQ(sharded.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    const double a = Num(plain[i], "loss"), b = Num(sharded[i], "loss");
    EXPECT_NEAR(b, a, 1e-5 * std::abs(a)) << "step " << i + 1;
  }
  EXPECT_LT(Num(sharded.back(), "loss"), Num(sharded.front(), "loss"));

  // Memory: stage 3 on 2 ranks holds half of stage 0's model state.
  const Struct& p = plain.back();
  const Struct& s = sharded.back();
  const double plain_state =
      Num(p, "param_bytes") + Num(p, "grad_bytes") + Num(p, "optimizer_bytes");
  const double sharded_state =
      Num(s, "param_bytes") + Num(s, "grad_bytes") + Num(s, "optimizer_bytes");
  EXPECT_GT(plain_state, 0);
  EXPECT_NEAR(sharded_state / plain_state, 0.5, 0.01);
  EXPECT_GT(Num(s, "model_state_peak_bytes"), sharded_state);
  EXPECT_GT(Num(s, "activation_peak_bytes"), 0);
  // Recompute keeps less than the full activations.
  EXPECT_LT(Num(s, "activation_peak_bytes"), Num(p, "activation_peak_bytes"));
}

}  // namespace
}  // namespace dstrain
