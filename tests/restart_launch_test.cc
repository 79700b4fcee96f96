// Restarts end to end: `dstrain launch` (the real binary, an embedded
// coordinator and agent, two `dstrain worker` processes over Gloo) with
// checkpoints every 10 steps and one restart allowed. A worker is killed
// with SIGKILL once the job is past step 15; the coordinator stops the
// attempt, starts the next, the workers resume from the newest complete
// checkpoint, and the job succeeds with exactly the parameters of an
// uninterrupted run (param_digest). Then `--resume` of the finished run
// starts from its last checkpoint. And a job that fails the same way at
// step 3 in every attempt (DSTRAIN_FAULT_INJECT) stops after the second
// identical failure with restarts left, naming the cause. And SIGTERM to
// the launch (a preemption) makes every rank checkpoint its step and exit
// 75 (requeue); `--resume` goes on from the next step to the parameters of
// an uninterrupted run.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <regex>

#include "tests/util/dstrain_test.h"
#include "tests/util/process_table.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::Num;
using testing::ReadJsonLines;
using testing::Subprocess;

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

// summary.json's rank-0 param_digest.
std::string Digest(const fs::path& run) {
  const Struct summary = testing::ReadJsonFile(run / "summary.json");
  const auto& ranks = summary.fields().at("ranks").list_value();
  if (ranks.values_size() == 0) return "";
  return testing::Str(ranks.values(0).struct_value(), "param_digest");
}

class RestartLaunchTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    job_ = WriteFile("restart.yaml", kJob);
  }

  std::unique_ptr<Subprocess> Start(const std::string& run,
                                    std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"launch", job_, "--run-dir",
                                     (dir_ / run).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return StartDstrain(args);
  }

  // Until the run's metrics.jsonl reaches `step`.
  void WaitPastStep(const fs::path& metrics, int step, const Subprocess& sp) {
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          const auto lines = ReadJsonLines(metrics);
          return !lines.empty() && Num(lines.back(), "step") >= step;
        },
        120s))
        << sp.Stderr();
  }

  std::string job_;
};

TEST_F(RestartLaunchTest, KilledWorkerRestartsFromACheckpointAndSucceeds) {
  // The uninterrupted run.
  LaunchToSuccess(job_, "plain",
                  {"--set", "fault_tolerance.max_restarts=0", "--set",
                   "checkpoint.every_steps=0"},
                  300s);
  ASSERT_FALSE(HasFailure());
  const std::string want = Digest(dir_ / "plain");
  ASSERT_EQ(want.size(), 16u);

  auto sp = Start("killed");
  ASSERT_TRUE(sp);
  const fs::path metrics = dir_ / "killed" / "metrics.jsonl";
  WaitPastStep(metrics, 15, *sp);
  if (HasFatalFailure()) return;
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
  const auto lines = ReadJsonLines(metrics);
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

  // --resume of the finished run (its newest checkpoint is step 120 of
  // 120): it says so and changes nothing.
  auto again = Start("killed", {"--resume"});
  ASSERT_TRUE(again);
  auto st2 = again->Wait(300s);
  ASSERT_TRUE(st2.has_value()) << again->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*st2), 0) << again->Stderr();
  const std::string out2 = again->Stdout() + again->Stderr();
  EXPECT_NE(out2.find("already finished"), std::string::npos) << out2;
  EXPECT_NE(out2.find("step 120 of 120"), std::string::npos) << out2;
  EXPECT_EQ(ReadJsonLines(metrics).size(), lines.size());
}

TEST_F(RestartLaunchTest, AFailureThatRecursStopsBeforeTheRestartsAreSpent) {
  auto sp = StartDstrain(
      {"launch", job_, "--run-dir", (dir_ / "recurs").string(), "--set",
       "fault_tolerance.max_restarts=5", "--set", "checkpoint.every_steps=0"},
      {"DSTRAIN_FAULT_INJECT=exit:rank=1,step=3"});
  ASSERT_TRUE(sp);
  auto st = sp->Wait(300s);
  ASSERT_TRUE(st.has_value()) << "launch did not finish\n" << sp->Stderr();
  const std::string out = sp->Stdout() + sp->Stderr();
  EXPECT_NE(testing::ShellExitCode(*st), 0) << out;
  EXPECT_NE(out.find("the same failure as attempt 0, at step 3: rank 1 on "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("injected failure after step 3"), std::string::npos)
      << out;
  EXPECT_NE(out.find("not restarting what cannot succeed (4 restarts left)"),
            std::string::npos)
      << out;
  // Two attempts ran, not six.
  int attempts = 0;
  for (const Struct& s : ReadJsonLines(dir_ / "recurs" / "metrics.jsonl")) {
    attempts = std::max(attempts, static_cast<int>(Num(s, "attempt")) + 1);
  }
  EXPECT_EQ(attempts, 2) << out;
}

// Each step's loss, the last row of each step winning (a resumed run
// repeats none, but be exact about it).
std::map<int, double> LossByStep(const fs::path& metrics) {
  std::map<int, double> out;
  for (const Struct& s : ReadJsonLines(metrics)) {
    out[static_cast<int>(Num(s, "step"))] = Num(s, "loss");
  }
  return out;
}

TEST_F(RestartLaunchTest,
       SigtermCheckpointsExitsToBeRequeuedAndResumesExactly) {
  const std::vector<std::string> no_periodic = {
      "--set", "checkpoint.every_steps=0", "--set",
      "fault_tolerance.max_restarts=0"};
  LaunchToSuccess(job_, "whole", no_periodic, 300s);
  ASSERT_FALSE(HasFailure());

  auto sp = Start("preempted", no_periodic);
  ASSERT_TRUE(sp);
  const fs::path metrics = dir_ / "preempted" / "metrics.jsonl";
  WaitPastStep(metrics, 15, *sp);
  if (HasFatalFailure()) return;
  sp->Signal(SIGTERM);
  auto st = sp->Wait(120s);
  ASSERT_TRUE(st.has_value()) << "launch did not stop\n" << sp->Stderr();
  const std::string out = sp->Stdout() + sp->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*st), 75) << out;
  const std::regex stopped(
      "stopped on request after step ([0-9]+) with a "
      "checkpoint of it");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, stopped)) << out;
  const int step = std::stoi(m[1]);
  EXPECT_GE(step, 15);
  EXPECT_LT(step, 120);
  EXPECT_TRUE(fs::exists(dir_ / "preempted" / "ckpt")) << out;

  auto again =
      Start("preempted", {"--resume", "--set", "checkpoint.every_steps=0"});
  ASSERT_TRUE(again);
  auto st2 = again->Wait(300s);
  ASSERT_TRUE(st2.has_value()) << again->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*st2), 0) << again->Stderr();
  const std::string out2 = again->Stdout() + again->Stderr();
  EXPECT_NE(out2.find("resuming from step " + std::to_string(step)),
            std::string::npos)
      << out2;
  // The next step and every one after it, as the uninterrupted run had
  // them; the same model to the bit.
  const std::map<int, double> whole =
      LossByStep(dir_ / "whole" / "metrics.jsonl");
  const std::map<int, double> resumed = LossByStep(metrics);
  ASSERT_EQ(resumed.size(), 120u);
  for (const auto& [s, loss] : whole) {
    ASSERT_EQ(resumed.count(s), 1u) << "step " << s;
    EXPECT_DOUBLE_EQ(resumed.at(s), loss) << "step " << s;
  }
  EXPECT_EQ(Digest(dir_ / "preempted"), Digest(dir_ / "whole"));
}

}  // namespace
}  // namespace dstrain
