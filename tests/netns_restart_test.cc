// Failures of a multi-host job, for real: a coordinator and agents in
// network namespaces (tests/util/netns_launch_fixture.h).
//
//  - A worker SIGKILLed at a random step of a 2-node job checkpointing
//    every 10 steps: the coordinator's event says so within 2 s, the job
//    restarts from the newest checkpoint and ends with parameters bitwise
//    equal to an uninterrupted run's (param_digest); the ranks stopped
//    because of it are marked collateral.
//  - An elastic job (nodes: {min: 1, max: 2}) whose second node's agent is
//    SIGKILLed: the node is lost within three heartbeats and the job goes
//    on on the one node left, resharded to 2 ranks with grad_accum 2 (the
//    global batch kept), with the losses of a 1-node run resumed from the
//    same checkpoint.
//  - The same job with a spare node registered: when a node's link goes
//    down, the job goes on at full size on the spare.
// Skips where namespaces cannot be made.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <map>
#include <random>

#include "common/contract/checkpoint_dir.h"
#include "tests/util/dstrain_test.h"
#include "tests/util/netns_launch_fixture.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::FindWorker;
using testing::NetnsLaunchTest;
using testing::Num;
using testing::ReadJsonLines;
using testing::Str;
using testing::WaitFor;

// Steps of a few milliseconds, so that a kill lands mid-run; checkpoints
// every 10 steps, all kept (the elastic test resumes a reference run from
// one of them).
std::string RestartJob(const std::string& name, int min_nodes, int max_nodes,
                       int steps) {
  return "name: " + name +
         "\nprocs_per_node: 2\ndevice: cpu\nbackend: gloo\n"
         "nodes: {min: " +
         std::to_string(min_nodes) + ", max: " + std::to_string(max_nodes) +
         "}\n"
         "model: {type: gpt, vocab: 256, layers: 2, d_model: 64, heads: 2, "
         "seq_len: 64}\n"
         "data: {type: text, path: /usr/share/games/fortunes}\n"
         "train:\n  steps: " +
         std::to_string(steps) +
         "\n  micro_batch: 4\n"
         "  optimizer: {type: adamw, lr: 3.0e-3}\n"
         "  schedule: {type: cosine, warmup_steps: 5}\n"
         "zero: {stage: 3}\n"
         "checkpoint: {every_steps: 10, keep: 100}\n"
         "fault_tolerance: {max_restarts: 1}\n";
}

double NowUnixSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Digest(const fs::path& run) {
  const Struct summary = testing::ReadJsonFile(run / "summary.json");
  const auto& ranks = summary.fields().at("ranks").list_value();
  if (ranks.values_size() == 0) return "";
  return Str(ranks.values(0).struct_value(), "param_digest");
}

// Rank 0's loss per step, as metrics.jsonl ends up (a restarted attempt's
// steps replace the failed one's from its checkpoint on).
std::map<int, double> LossByStep(const fs::path& run) {
  std::map<int, double> out;
  for (const Struct& line : ReadJsonLines(run / "metrics.jsonl")) {
    out[static_cast<int>(Num(line, "step"))] = Num(line, "loss");
  }
  return out;
}

class NetnsRestartTest : public NetnsLaunchTest {
 protected:
  // The Unix time of the first event whose cause holds `text`; -1 when
  // none does.
  static double EventTime(const Struct& st, const std::string& text) {
    if (st.fields().count("events") == 0) return -1;
    for (const auto& e : st.fields().at("events").list_value().values()) {
      if (Str(e.struct_value(), "cause").find(text) != std::string::npos) {
        // An int64 in proto JSON is a string.
        return std::stod(Str(e.struct_value(), "time_unix_us")) / 1e6;
      }
    }
    return -1;
  }

  static std::string Events(const Struct& st) {
    std::string out;
    if (st.fields().count("events") == 0) return out;
    for (const auto& e : st.fields().at("events").list_value().values()) {
      out += "  " + Str(e.struct_value(), "cause") + "\n";
    }
    return out;
  }

  // The hosts of the current attempt's ranks, in rank order.
  static std::vector<std::string> RankHosts(const Struct& st) {
    std::vector<std::string> hosts;
    if (st.fields().count("ranks") == 0) return hosts;
    for (const auto& r : st.fields().at("ranks").list_value().values()) {
      hosts.push_back(Str(r.struct_value(), "host"));
    }
    return hosts;
  }

  // Whether the job runs its attempt `attempt`.
  static bool Running(const Struct& st, int attempt) {
    return st.fields().count("state") != 0 &&
           Str(st, "state") == "JOB_RUNNING" &&
           st.fields().count("attempt") != 0 && Num(st, "attempt") == attempt;
  }

  // After node-2 was cut off at `cut_at` (Unix s): the job's status once
  // its attempt 1 runs, having checked that node-2 was found lost within
  // three heartbeats (1 s each) plus one liveness check.
  Struct RestartedAfterNode2Lost(double cut_at,
                                 const testing::Subprocess& launch) {
    Struct st;
    EXPECT_TRUE(WaitFor(
        [&] {
          st = Status();
          return Running(st, 1);
        },
        120s))
        << Events(st) << launch.Stderr();
    const double lost = EventTime(st, "node node-2 stopped heartbeating");
    EXPECT_GT(lost, 0) << Events(st);
    EXPECT_LE(lost - cut_at, 3 * 1.0 + 1.5) << Events(st);
    return st;
  }
};

TEST_F(NetnsRestartTest, AKilledWorkerIsRestartedToTheParametersOfAWholeRun) {
  const std::string job = WriteFile("kill.yaml", RestartJob("kill", 2, 2, 60));
  // The uninterrupted run, on the same two hosts.
  const fs::path whole = dir_ / "whole";
  {
    auto launch = Launch(job, whole);
    ASSERT_TRUE(launch);
    auto st = launch->Wait(300s);
    ASSERT_TRUE(st.has_value()) << launch->Stderr();
    ASSERT_EQ(testing::ShellExitCode(*st), 0) << launch->Stderr();
  }
  const fs::path killed = dir_ / "killed";
  auto launch = Launch(job, killed);
  ASSERT_TRUE(launch);
  // A step between two checkpoints, drawn anew each run.
  std::mt19937 rng(std::random_device{}());
  const int at = std::uniform_int_distribution<int>(12, 45)(rng);
  WaitForSteps(killed, at, *launch, 180s);
  if (HasFatalFailure()) return;
  const pid_t rank3 =
      FindWorker({"RANK=3", "DSTRAIN_NODE_NAME=node-2", "DSTRAIN_ATTEMPT=0",
                  "DSTRAIN_RUN_DIR=" + killed.string()});
  ASSERT_GT(rank3, 0) << "rank 3's worker not found in /proc";
  ASSERT_EQ(::kill(rank3, SIGKILL), 0);
  const double killed_at = NowUnixSeconds();
  Struct st;
  ASSERT_TRUE(WaitFor(
      [&] {
        st = Status();
        return EventTime(st, "restarting: stopping every rank") > 0;
      },
      60s))
      << Events(st) << launch->Stderr();
  const double detected = EventTime(st, "restarting: stopping every rank");
  EXPECT_LT(detected - killed_at, 2.0) << Events(st);
  EXPECT_GT(EventTime(st, "rank 3 on node-2 was killed by SIGKILL"), 0)
      << Events(st);

  auto done = launch->Wait(300s);
  ASSERT_TRUE(done.has_value()) << launch->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*done), 0)
      << launch->Stdout() << launch->Stderr();
  EXPECT_EQ(Digest(killed), Digest(whole))
      << "killed at step " << at << "; final parameters differ";
  // The restart names the cause and the ranks stopped because of it.
  st = Status();
  EXPECT_GT(EventTime(st,
                      "restart 1 of 1: rank 3 on node-2 was killed by "
                      "SIGKILL; collateral: ranks"),
            0)
      << Events(st);
}

TEST_F(NetnsRestartTest, AnElasticJobGoesOnReshardedOnTheNodeLeft) {
  const std::string job =
      WriteFile("elastic.yaml", RestartJob("elastic", 1, 2, 60));
  const fs::path run_dir = dir_ / "elastic";
  auto launch = Launch(job, run_dir);
  ASSERT_TRUE(launch);
  WaitForSteps(run_dir, 14, *launch, 180s);
  if (HasFatalFailure()) return;
  // SIGKILL node-2's agent: its workers die with it (PR_SET_PDEATHSIG).
  ASSERT_EQ(::kill(agents_[1]->pid(), SIGKILL), 0);
  const Struct st = RestartedAfterNode2Lost(NowUnixSeconds(), *launch);
  if (HasFailure()) return;
  // The loss is the root cause, not the peers' broken connections.
  EXPECT_GT(EventTime(st, "restart 1 of 1: node node-2 stopped heartbeating"),
            0)
      << Events(st);
  EXPECT_EQ(RankHosts(st), (std::vector<std::string>{"node-1", "node-1"}));
  EXPECT_GT(EventTime(st,
                      "grad_accum 2 keeps the global batch of 16 "
                      "sequences"),
            0)
      << Events(st);
  auto done = launch->Wait(300s);
  ASSERT_TRUE(done.has_value()) << launch->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*done), 0) << launch->Stderr();

  // The reference: one node, 2 ranks accumulating 2 micro-batches each,
  // resumed from the checkpoint the elastic attempt resumed from.
  const std::map<int, double> elastic = LossByStep(run_dir);
  // The step the restart resumed from: before attempt 1's first.
  int from = -1;
  for (const Struct& line : ReadJsonLines(run_dir / "metrics.jsonl")) {
    if (Num(line, "attempt") == 1 && from < 0) {
      from = static_cast<int>(Num(line, "step")) - 1;
    }
  }
  ASSERT_GE(from, 10);
  const fs::path ref = dir_ / "ref";
  fs::create_directories(ref / "ckpt");
  fs::copy(run_dir / "ckpt" / contract::StepDirName(from),
           ref / "ckpt" / contract::StepDirName(from),
           fs::copy_options::recursive);
  const std::string one =
      WriteFile("one.yaml", RestartJob("elastic", 1, 1, 60));
  std::string error;
  auto again = testing::Subprocess::Start(
      {.argv = {testing::DstrainBinary(), "launch", one, "--resume",
                "--run-dir", ref.string(), "--set", "train.grad_accum=2"},
       .extra_env = {},
       .working_dir = dir_.string()},
      &error);
  ASSERT_TRUE(again) << error;
  auto ref_done = again->Wait(300s);
  ASSERT_TRUE(ref_done.has_value());
  ASSERT_EQ(testing::ShellExitCode(*ref_done), 0) << again->Stderr();
  const std::map<int, double> reference = LossByStep(ref);
  int compared = 0;
  for (const auto& [step, loss] : reference) {
    if (step <= from) continue;
    ASSERT_EQ(elastic.count(step), 1u) << "step " << step;
    EXPECT_NEAR(elastic.at(step), loss, 1e-5 * std::abs(loss))
        << "step " << step;
    ++compared;
  }
  EXPECT_EQ(compared, 60 - from);
}

class NetnsSpareTest : public NetnsRestartTest {
 protected:
  int AgentCount() const override { return 3; }
};

TEST_F(NetnsSpareTest, ANodeWhoseLinkGoesDownIsReplacedByTheSpare) {
  // Long enough to outlive the test; cancelled at the end.
  const std::string job =
      WriteFile("spare.yaml", RestartJob("spare", 1, 2, 1000000));
  const fs::path run_dir = dir_ / "spare";
  auto launch = Launch(job, run_dir);
  ASSERT_TRUE(launch);
  WaitForSteps(run_dir, 14, *launch, 180s);
  if (HasFatalFailure()) return;
  Struct st = Status();
  ASSERT_EQ(RankHosts(st),
            (std::vector<std::string>{"node-1", "node-1", "node-2", "node-2"}));
  ASSERT_TRUE(hosts_->SetLinkUp(2, false));
  st = RestartedAfterNode2Lost(NowUnixSeconds(), *launch);
  if (HasFailure()) return;
  // At full size again: the node kept, and the spare.
  EXPECT_EQ(RankHosts(st),
            (std::vector<std::string>{"node-1", "node-1", "node-3", "node-3"}));
  // And it trains there.
  ASSERT_TRUE(WaitFor(
      [&] {
        int steps = 0;
        for (const Struct& line : ReadJsonLines(run_dir / "metrics.jsonl")) {
          steps += Num(line, "attempt") == 1;
        }
        return steps > 5;
      },
      120s))
      << launch->Stderr();
  auto cancel = In(0, {"cancel", job_id_, "--coordinator", coordinator_,
                       "--token-file", token_});
  ASSERT_TRUE(cancel);
  EXPECT_TRUE(cancel->Wait(30s).has_value());
  EXPECT_TRUE(launch->Wait(60s).has_value());
}

}  // namespace
}  // namespace dstrain
