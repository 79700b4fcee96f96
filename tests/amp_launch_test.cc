// `dstrain launch` with mixed precision, end to end: the real binary, an
// embedded coordinator and agent, two real `dstrain worker` processes over
// Gloo, `amp.dtype: bf16` with ZeRO stage 3. The job must finish (exit 0),
// learn, and every metrics.jsonl line must carry the loss scale (1: bf16
// needs no scaler) and the skipped-step count.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tests/util/subprocess.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::Subprocess;

const std::string kDstrain = std::string(DSTRAIN_BINARY_DIR) + "/bin/dstrain";

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

class AmpLaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dstrain_amp_launch_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(fs::exists(kDstrain)) << kDstrain << " is not built";
    job_ = (dir_ / "amp.yaml").string();
    std::ofstream(job_) << kJob;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string job_;
};

const google::protobuf::Value* Field(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

TEST_F(AmpLaunchTest, Bf16JobOnTwoRanksFinishesAndReportsTheLossScale) {
  testing::SubprocessOptions o;
  o.argv = {kDstrain, "launch", job_, "--run-dir", (dir_ / "run").string()};
  o.working_dir = dir_.string();
  std::string error;
  auto sp = Subprocess::Start(o, &error);
  ASSERT_TRUE(sp != nullptr) << error;
  auto st = sp->Wait(240s);
  ASSERT_TRUE(st.has_value()) << "launch did not finish\n" << sp->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*st), 0) << sp->Stderr();

  std::vector<Struct> lines;
  std::ifstream in(dir_ / "run" / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    Struct s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok())
        << line;
    lines.push_back(s);
  }
  ASSERT_EQ(lines.size(), 10u);
  for (const Struct& s : lines) {
    const google::protobuf::Value* scale = Field(s, "loss_scale");
    ASSERT_NE(scale, nullptr) << "metrics line without loss_scale";
    EXPECT_EQ(scale->number_value(), 1.0);
    const google::protobuf::Value* skipped = Field(s, "skipped_steps");
    ASSERT_NE(skipped, nullptr) << "metrics line without skipped_steps";
    EXPECT_EQ(skipped->number_value(), 0.0);
  }
  const double first = Field(lines.front(), "loss")->number_value();
  const double last = Field(lines.back(), "loss")->number_value();
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, first) << "the bf16 job did not learn";
}

}  // namespace
}  // namespace dstrain
