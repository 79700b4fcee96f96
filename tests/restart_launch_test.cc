// Restarts end to end: `dstrain launch` (the real binary, an embedded
// coordinator and agent, two `dstrain worker` processes over Gloo) with
// checkpoints every 10 steps and one restart allowed. A worker is killed
// with SIGKILL once the job is past step 15; the coordinator stops the
// attempt, starts the next, the workers resume from the newest complete
// checkpoint, and the job succeeds with exactly the parameters of an
// uninterrupted run (param_digest). Then `--resume` of the finished run
// starts from its last checkpoint.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/util/process_table.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::Subprocess;

const std::string kDstrain = std::string(DSTRAIN_BINARY_DIR) + "/bin/dstrain";

// Big enough that a step takes a few milliseconds, so the kill lands in
// the middle of the run.
const char* kJob =
    "name: restart\n"
    "procs_per_node: 2\n"
    "device: cpu\n"
    "backend: gloo\n"
    "model: {type: gpt, vocab: 256, layers: 2, d_model: 64, heads: 2, "
    "seq_len: 64}\n"
    "data: {type: text, path: /usr/share/games/fortunes}\n"
    "train:\n"
    "  steps: 120\n"
    "  micro_batch: 4\n"
    "  optimizer: {type: adamw, lr: 3.0e-3}\n"
    "  schedule: {type: cosine, warmup_steps: 10}\n"
    "zero: {stage: 3}\n"
    "checkpoint: {every_steps: 10, keep: 2}\n"
    "fault_tolerance: {max_restarts: 1}\n";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Struct> MetricsLines(const fs::path& file) {
  std::vector<Struct> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    Struct s;
    if (!google::protobuf::util::JsonStringToMessage(line, &s).ok()) break;
    out.push_back(s);
  }
  return out;
}

double Num(const Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? -1 : it->second.number_value();
}

// summary.json's rank-0 param_digest.
std::string Digest(const fs::path& run) {
  const std::string text = ReadFile(run / "summary.json");
  const std::size_t at = text.find("\"param_digest\":\"");
  if (at == std::string::npos) return "";
  return text.substr(at + 16, 16);
}

class RestartLaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dstrain_restart_launch_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(fs::exists(kDstrain)) << kDstrain << " is not built";
    job_ = (dir_ / "restart.yaml").string();
    std::ofstream(job_) << kJob;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Subprocess> Start(const std::string& run,
                                    std::vector<std::string> extra = {}) {
    testing::SubprocessOptions o;
    o.argv = {kDstrain, "launch", job_, "--run-dir", (dir_ / run).string()};
    for (auto& e : extra) o.argv.push_back(e);
    o.working_dir = dir_.string();
    std::string error;
    auto sp = Subprocess::Start(o, &error);
    EXPECT_TRUE(sp != nullptr) << error;
    return sp;
  }

  fs::path dir_;
  std::string job_;
};

TEST_F(RestartLaunchTest, KilledWorkerRestartsFromACheckpointAndSucceeds) {
  // The uninterrupted run.
  {
    auto sp = Start("plain", {"--set", "fault_tolerance.max_restarts=0",
                              "--set", "checkpoint.every_steps=0"});
    ASSERT_TRUE(sp);
    auto st = sp->Wait(300s);
    ASSERT_TRUE(st.has_value()) << sp->Stderr();
    ASSERT_EQ(testing::ShellExitCode(*st), 0) << sp->Stderr();
  }
  const std::string want = Digest(dir_ / "plain");
  ASSERT_EQ(want.size(), 16u);

  auto sp = Start("killed");
  ASSERT_TRUE(sp);
  const fs::path metrics = dir_ / "killed" / "metrics.jsonl";
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const auto lines = MetricsLines(metrics);
        return !lines.empty() && Num(lines.back(), "step") >= 15;
      },
      120s))
      << sp->Stderr();
  // Rank 1's worker: a descendant of launch (through its agent).
  pid_t victim = -1;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        for (const testing::ProcInfo& p : testing::Descendants(sp->pid())) {
          if (testing::EnvironOf(p.pid, "RANK") == "1" &&
              testing::EnvironOf(p.pid, "DSTRAIN_ATTEMPT") == "0") {
            victim = p.pid;
            return true;
          }
        }
        return false;
      },
      10s));
  ASSERT_EQ(::kill(victim, SIGKILL), 0);

  auto st = sp->Wait(300s);
  ASSERT_TRUE(st.has_value()) << "launch did not finish\n" << sp->Stderr();
  const std::string out = sp->Stdout() + sp->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*st), 0) << out;
  EXPECT_NE(out.find("restarting (attempt 2 of 2) after: rank 1 on "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("killed by SIGKILL; resuming from step "),
            std::string::npos)
      << out;
  // Same data, same state after the resume: the same model to the bit.
  EXPECT_EQ(Digest(dir_ / "killed"), want);

  // metrics.jsonl: attempt 0 up to the kill, then attempt 1 from a
  // checkpoint step + 1 to the end.
  const auto lines = MetricsLines(metrics);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(Num(lines.front(), "attempt"), 0);
  EXPECT_EQ(Num(lines.back(), "attempt"), 1);
  EXPECT_EQ(Num(lines.back(), "step"), 120);
  int first_resumed = -1;
  for (const Struct& s : lines) {
    if (Num(s, "attempt") == 1) {
      first_resumed = static_cast<int>(Num(s, "step"));
      break;
    }
  }
  EXPECT_EQ((first_resumed - 1) % 10, 0) << first_resumed;
  EXPECT_GE(first_resumed, 11);

  // --resume of the finished run: from its newest checkpoint (120), so no
  // step is left to train, and metrics.jsonl is appended to.
  auto again = Start("killed", {"--resume"});
  ASSERT_TRUE(again);
  auto st2 = again->Wait(300s);
  ASSERT_TRUE(st2.has_value()) << again->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*st2), 0) << again->Stderr();
  const std::string out2 = again->Stdout() + again->Stderr();
  EXPECT_NE(out2.find("resuming from step 120"), std::string::npos) << out2;
  EXPECT_EQ(MetricsLines(metrics).size(), lines.size());
}

}  // namespace
}  // namespace dstrain
