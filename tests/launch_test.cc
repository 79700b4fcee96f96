// `dstrain launch` end to end, as a user runs it: the real binary as a
// child process, an embedded coordinator and agent, real `dstrain worker`
// processes training a tiny GPT over Gloo. Asserts the outcome (exit code,
// metrics.jsonl, summary.json) and that no process of the job is left.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "common/unique_fd.h"
#include "tests/util/dstrain_test.h"
#include "tests/util/process_table.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::Num;
using testing::ParseJson;
using testing::ReadJsonLines;
using testing::Subprocess;
using testing::WaitFor;

std::string TinyJob(const std::string& name, int steps) {
  return testing::TinyJobYaml(name, steps);
}

class LaunchTest : public testing::DstrainTest {
 protected:
  // Every live (not zombie) process whose command line names `job_path`
  // as its job (the agent hands workers its copy, with the submitted path
  // as --job-origin): the workers of that job, wherever they were
  // reparented to.
  std::vector<testing::ProcInfo> WorkersOf(const std::string& job_path) {
    std::vector<testing::ProcInfo> out;
    for (auto& p : testing::ListProcesses()) {
      if (p.state != 'Z' &&
          p.cmdline.find("--job-origin " + job_path) != std::string::npos) {
        out.push_back(p);
      }
    }
    return out;
  }

  // Waits until rank 0 has reported a step (metrics.jsonl has a line).
  bool WaitForFirstStep(const fs::path& run_dir) {
    return WaitFor(
        [&] { return !ReadJsonLines(run_dir / "metrics.jsonl").empty(); },
        120s);
  }
};

TEST_F(LaunchTest, TwoRanksTrainAndAgree) {
  std::string job = WriteFile("tiny.yaml", TinyJob("tiny", 20));
  fs::path run_dir = dir_ / "run";
  auto sp =
      StartDstrain({"launch", job, "--run-dir", run_dir.string(), "--json"});
  ASSERT_TRUE(sp);
  auto st = sp->Wait(180s);
  ASSERT_TRUE(st.has_value()) << "launch did not finish\n" << sp->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*st), 0) << sp->Stderr();

  // metrics.jsonl: steps 1..20 of rank 0 with the required fields.
  auto lines = ReadJsonLines(run_dir / "metrics.jsonl");
  ASSERT_EQ(lines.size(), 20u);
  std::vector<double> loss;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Num(lines[i], "step"), i + 1);
    for (const char* key : {"loss", "lr", "tokens_per_s", "step_time_s"}) {
      EXPECT_TRUE(lines[i].fields().contains(key)) << key;
    }
    EXPECT_GT(Num(lines[i], "lr"), 0);
    EXPECT_GT(Num(lines[i], "tokens_per_s"), 0);
    EXPECT_GT(Num(lines[i], "step_time_s"), 0);
    loss.push_back(Num(lines[i], "loss"));
  }
  double first5 = 0, last5 = 0;
  for (int i = 0; i < 5; ++i) {
    first5 += loss[i] / 5;
    last5 += loss[15 + i] / 5;
  }
  EXPECT_LT(last5, first5);
  EXPECT_LT(loss.back(), loss.front());

  // summary.json: both ranks, identical parameters.
  Struct summary = testing::ReadJsonFile(run_dir / "summary.json");
  EXPECT_EQ(summary.fields().at("state").string_value(), "SUCCEEDED");
  EXPECT_EQ(Num(summary, "steps"), 20);
  const auto& ranks = summary.fields().at("ranks").list_value();
  ASSERT_EQ(ranks.values_size(), 2);
  std::string d0 =
      ranks.values(0).struct_value().fields().at("param_digest").string_value();
  std::string d1 =
      ranks.values(1).struct_value().fields().at("param_digest").string_value();
  EXPECT_FALSE(d0.empty());
  EXPECT_EQ(d0, d1);
  EXPECT_TRUE(summary.fields().at("param_digests_agree").bool_value());

  // --json: the same summary on stdout.
  Struct printed = ParseJson(sp->Stdout());
  EXPECT_EQ(printed.fields().at("job_id").string_value(),
            summary.fields().at("job_id").string_value());
  // Worker lines were relayed with their prefix (to stderr under --json).
  EXPECT_NE(sp->Stderr().find("[rank 0 "), std::string::npos);
  EXPECT_TRUE(WorkersOf(job).empty());
}

// A run directory after a failed relaunch, a resume with steps trained
// twice, and a resume of a finished job: one row per step, nothing lost.
TEST_F(LaunchTest, TheRunDirectoryKeepsOneRowPerStepAndSurvivesRelaunches) {
  const std::string job = WriteFile(
      "ck.yaml",
      TinyJob("ck", 8) + "checkpoint: {every_steps: 5, save_final: false}\n");
  const fs::path run_dir = dir_ / "run";
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"launch", job, "--run-dir",
                                     run_dir.string(), "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto sp = StartDstrain(args);
    EXPECT_TRUE(sp);
    auto st = sp->Wait(180s);
    EXPECT_TRUE(st.has_value()) << sp->Stderr();
    return std::make_pair(st ? testing::ShellExitCode(*st) : -1,
                          sp->Stdout() + sp->Stderr());
  };
  auto steps_in_metrics = [&] {
    std::vector<int> steps;
    for (const Struct& line : ReadJsonLines(run_dir / "metrics.jsonl")) {
      steps.push_back(static_cast<int>(Num(line, "step")));
    }
    return steps;
  };
  std::vector<int> one_to_eight = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_EQ(run({}).first, 0);  // checkpoint at 5 only; trained 1..8
  ASSERT_EQ(steps_in_metrics(), one_to_eight);

  // A relaunch that fails before training keeps the previous record.
  auto [failed_rc, failed_out] =
      run({"--set", "device=cuda", "--set", "backend=nccl"});
  EXPECT_NE(failed_rc, 0) << failed_out;
  EXPECT_EQ(steps_in_metrics(), one_to_eight);
  EXPECT_EQ(testing::ReadJsonFile(run_dir / "summary.json")
                .fields()
                .at("state")
                .string_value(),
            "SUCCEEDED");

  // Resumed from step 5 to 10: steps 6..8 are trained again, once each in
  // the file; the first run's 6..8 are kept aside.
  ASSERT_EQ(run({"--resume", "--set", "train.steps=10", "--set",
                 "checkpoint.save_final=true"})
                .first,
            0);
  EXPECT_EQ(steps_in_metrics(),
            (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(ReadJsonLines(run_dir / "metrics.superseded.jsonl").size(), 3u);

  // Finished (its final checkpoint is step 10): --resume changes nothing.
  const std::string summary_before =
      testing::ReadJsonFile(run_dir / "summary.json").DebugString();
  auto [done_rc, done_out] = run({"--resume", "--set", "train.steps=10"});
  EXPECT_EQ(done_rc, 0) << done_out;
  EXPECT_NE(done_out.find("already finished"), std::string::npos) << done_out;
  EXPECT_EQ(steps_in_metrics().size(), 10u);
  EXPECT_EQ(testing::ReadJsonFile(run_dir / "summary.json").DebugString(),
            summary_before);
}

TEST_F(LaunchTest, KilledWorkerFailsTheLaunchAndNothingIsLeft) {
  std::string job = WriteFile("long.yaml", TinyJob("long", 1000000));
  fs::path run_dir = dir_ / "run";
  auto sp = StartDstrain({"launch", job, "--run-dir", run_dir.string()});
  ASSERT_TRUE(sp);
  ASSERT_TRUE(WaitForFirstStep(run_dir)) << sp->Stderr();

  pid_t victim = -1;
  pid_t pgid = -1;
  for (const auto& p : WorkersOf(job)) {
    if (testing::EnvironOf(p.pid, "RANK") == "1") {
      victim = p.pid;
      pgid = p.pgid;
    }
  }
  ASSERT_GT(victim, 0) << testing::Describe(testing::Descendants(sp->pid()));
  EXPECT_NE(pgid, sp->pid());  // the workers' group is not launch's
  EXPECT_EQ(testing::ProcessesInGroup(pgid).size(), 2u);

  auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(victim, SIGKILL), 0);
  auto st = sp->Wait(10s);
  ASSERT_TRUE(st.has_value()) << "launch still running 10 s after the kill\n"
                              << sp->Stdout() << sp->Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 10s);
  EXPECT_NE(testing::ShellExitCode(*st), 0);
  EXPECT_EQ(testing::ShellExitCode(*st), 1);
  EXPECT_NE(sp->Stderr().find("job long failed: rank 1 on "), std::string::npos)
      << sp->Stderr();
  EXPECT_NE(sp->Stderr().find("SIGKILL"), std::string::npos) << sp->Stderr();
  EXPECT_TRUE(testing::ProcessesInGroup(pgid).empty())
      << testing::Describe(testing::ProcessesInGroup(pgid));
  EXPECT_TRUE(testing::ChildrenOf(sp->pid()).empty());
  EXPECT_TRUE(WorkersOf(job).empty());
}

TEST_F(LaunchTest, SigintCancelsAndStopsTheWorkers) {
  std::string job = WriteFile("long.yaml", TinyJob("long", 1000000));
  fs::path run_dir = dir_ / "run";
  auto sp = StartDstrain({"launch", job, "--run-dir", run_dir.string()});
  ASSERT_TRUE(sp);
  ASSERT_TRUE(WaitForFirstStep(run_dir)) << sp->Stderr();
  auto workers = WorkersOf(job);
  ASSERT_EQ(workers.size(), 2u);
  pid_t pgid = workers[0].pgid;

  sp->Signal(SIGINT);
  auto st = sp->Wait(10s);
  ASSERT_TRUE(st.has_value()) << "launch ignored SIGINT\n" << sp->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*st), 130);
  EXPECT_NE(sp->Stderr().find("cancelled"), std::string::npos) << sp->Stderr();
  EXPECT_TRUE(testing::ProcessesInGroup(pgid).empty());
  EXPECT_TRUE(WorkersOf(job).empty());
  // The summary says what happened.
  EXPECT_EQ(
      testing::Str(testing::ReadJsonFile(run_dir / "summary.json"), "state"),
      "CANCELLED");
}

TEST_F(LaunchTest, WorkersDieWithTheLauncher) {
  // Orphans come back to this process, so they can be reaped here and
  // seen dead rather than left as zombies of an init that does not reap.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  std::string job = WriteFile("long.yaml", TinyJob("long", 1000000));
  fs::path run_dir = dir_ / "run";
  auto sp = StartDstrain({"launch", job, "--run-dir", run_dir.string()});
  ASSERT_TRUE(sp);
  ASSERT_TRUE(WaitForFirstStep(run_dir)) << sp->Stderr();
  auto workers = WorkersOf(job);
  ASSERT_EQ(workers.size(), 2u);

  sp->Signal(SIGKILL);  // no chance to clean up: PR_SET_PDEATHSIG must
  ASSERT_TRUE(sp->Wait(10s).has_value());
  for (const auto& w : workers) {
    int status = 0;
    pid_t r = -1;
    EXPECT_TRUE(WaitFor(
        [&] {
          r = waitpid(w.pid, &status, WNOHANG);
          return r == w.pid || (r < 0 && errno == ECHILD);
        },
        10s))
        << "worker " << w.pid << " outlived its launcher";
    if (r == w.pid) {
      EXPECT_TRUE(WIFSIGNALED(status));
      EXPECT_EQ(WTERMSIG(status), SIGKILL);
    }
  }
  EXPECT_TRUE(WorkersOf(job).empty());
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

TEST_F(LaunchTest, BadJobFileStartsNothing) {
  std::string job = WriteFile("bad.yaml",
                              "name: bad\n"
                              "procs_per_node: 2\n"
                              "train:\n"
                              "  steps: 5\n"
                              "  lerning_rate: 0.1\n");
  auto sp = StartDstrain({"launch", job});
  ASSERT_TRUE(sp);
  auto st = sp->Wait(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*st), 2);
  std::string err = sp->Stderr();
  EXPECT_TRUE(std::regex_search(err, std::regex("bad\\.yaml:5:[0-9]+"))) << err;
  EXPECT_NE(err.find("lerning_rate"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(fs::exists(dir_ / "runs"));  // the default run dir
  EXPECT_EQ(sp->Stdout().find("[rank"), std::string::npos);
  EXPECT_EQ(sp->Stdout(), "");
}

TEST_F(LaunchTest, EmbeddedModeRefusesMultiNodeJobs) {
  std::string text = TinyJob("multi", 5) + "nodes: {min: 2, max: 2}\n";
  std::string job = WriteFile("multi.yaml", text);
  auto sp = StartDstrain({"launch", job, "--run-dir", (dir_ / "run").string()});
  ASSERT_TRUE(sp);
  auto st = sp->Wait(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*st), 2);
  EXPECT_NE(sp->Stderr().find("nodes.min = 2"), std::string::npos)
      << sp->Stderr();
  EXPECT_FALSE(fs::exists(dir_ / "run"));
}

// The multi-process shape: `dstrain coordinator`, `dstrain agent` and
// `dstrain launch --coordinator` as three processes sharing a token file.
TEST_F(LaunchTest, SubmitsToAStandaloneCoordinatorAndAgent) {
  std::string token = WriteTokenFile("token", "cluster-test-token");
  std::string wrong = WriteTokenFile("wrong", "not-the-token");

  std::string address;
  auto coord = StartCoordinator(token, &address);
  ASSERT_TRUE(coord);

  auto agent =
      StartDstrain({"agent", "--coordinator", address, "--token-file", token,
                    "--listen", "127.0.0.1:0", "--hostname", "node-a"});
  ASSERT_TRUE(agent);
  ASSERT_TRUE(WaitFor(
      [&] { return agent->Stdout().find("serving on") != std::string::npos; },
      30s))
      << agent->Stderr();

  std::string job = WriteFile("tiny.yaml", TinyJob("remote", 5));
  fs::path run_dir = dir_ / "run";
  auto refused =
      StartDstrain({"launch", job, "--coordinator", address, "--token-file",
                    wrong, "--run-dir", run_dir.string()});
  ASSERT_TRUE(refused);
  auto refused_st = refused->Wait(60s);
  ASSERT_TRUE(refused_st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*refused_st), 1);
  EXPECT_NE(refused->Stderr().find("token"), std::string::npos)
      << refused->Stderr();

  auto launch =
      StartDstrain({"launch", job, "--coordinator", address, "--token-file",
                    token, "--run-dir", run_dir.string(), "--quiet"});
  ASSERT_TRUE(launch);
  auto st = launch->Wait(180s);
  ASSERT_TRUE(st.has_value()) << launch->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*st), 0) << launch->Stderr();
  EXPECT_EQ(ReadJsonLines(run_dir / "metrics.jsonl").size(), 5u);
  // --quiet: no worker lines here; the agent relayed them on its side.
  EXPECT_EQ(launch->Stdout().find("[rank"), std::string::npos);
  EXPECT_NE(agent->Stderr().find("[rank 0 node-a] "), std::string::npos)
      << agent->Stderr();
  EXPECT_TRUE(WorkersOf(job).empty());

  agent->Signal(SIGTERM);
  auto agent_st = agent->Wait(15s);
  ASSERT_TRUE(agent_st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*agent_st), 0) << agent->Stderr();
  coord->Signal(SIGINT);
  auto coord_st = coord->Wait(15s);
  ASSERT_TRUE(coord_st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*coord_st), 0) << coord->Stderr();
}

// An agent must stop within seconds of SIGTERM even when its coordinator is
// gone: its workers' exits cannot be reported, and it must not wait to.
TEST_F(LaunchTest, AnAgentWhoseCoordinatorDiedStopsOnSigterm) {
  const std::string token = WriteTokenFile("token", "dead-coordinator-token");
  std::string address;
  auto coord = StartCoordinator(token, &address);
  ASSERT_TRUE(coord);
  auto agent =
      StartDstrain({"agent", "--coordinator", address, "--token-file", token,
                    "--listen", "127.0.0.1:0", "--hostname", "node-a"});
  ASSERT_TRUE(agent);
  const std::string job = WriteFile("long.yaml", TinyJob("long", 1000000));
  auto launch =
      StartDstrain({"launch", job, "--coordinator", address, "--token-file",
                    token, "--run-dir", (dir_ / "run").string(), "--quiet"});
  ASSERT_TRUE(launch);
  ASSERT_TRUE(WaitFor([&] { return WorkersOf(job).size() == 2; }, 120s))
      << agent->Stderr();

  coord->Signal(SIGKILL);
  ASSERT_TRUE(coord->Wait(15s).has_value());
  agent->Signal(SIGTERM);
  auto agent_st = agent->Wait(30s);
  ASSERT_TRUE(agent_st.has_value())
      << "the agent did not stop within 30 s of SIGTERM: " << agent->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*agent_st), 0) << agent->Stderr();
  EXPECT_TRUE(WorkersOf(job).empty());
  launch->Signal(SIGKILL);
  launch->Wait(15s);
}

// Workers get the job from their agent: a job file that exists only where
// it was submitted from (here: deleted before any agent registers) still
// runs, and a job waiting for nodes says why.
TEST_F(LaunchTest, WorkersDoNotNeedTheSubmittersJobFile) {
  const std::string token = WriteTokenFile("token", "job-text-token");
  std::string address;
  auto coord = StartCoordinator(token, &address);
  ASSERT_TRUE(coord);
  const std::string job = WriteFile("laptop.yaml", TinyJob("laptop", 5));
  const fs::path run_dir = dir_ / "run";
  auto launch =
      StartDstrain({"launch", job, "--coordinator", address, "--token-file",
                    token, "--run-dir", run_dir.string()});
  ASSERT_TRUE(launch);
  ASSERT_TRUE(WaitFor(
      [&] {
        return launch->Stdout().find("needs 1 free node: 0 registered") !=
               std::string::npos;
      },
      60s))
      << launch->Stdout() << launch->Stderr();
  fs::remove(job);

  auto agent = StartDstrain({"agent", "--coordinator", address, "--token-file",
                             token, "--hostname", "node-b"});
  ASSERT_TRUE(agent);
  auto st = launch->Wait(180s);
  ASSERT_TRUE(st.has_value()) << launch->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*st), 0)
      << launch->Stderr() << agent->Stderr();
  EXPECT_EQ(ReadJsonLines(run_dir / "metrics.jsonl").size(), 5u);
  agent->Signal(SIGTERM);
  EXPECT_TRUE(agent->Wait(30s).has_value());
  coord->Signal(SIGTERM);
  EXPECT_TRUE(coord->Wait(30s).has_value());
}

// A mistyped --token-file used to become the cluster's secret; every
// command that takes one now refuses it and names the path.
TEST_F(LaunchTest, AMistypedTokenPathIsAnErrorInEveryCommand) {
  const std::string missing = (dir_ / "tokne").string();
  std::string job = WriteFile("tiny.yaml", TinyJob("remote", 5));
  for (std::vector<std::string> args :
       {std::vector<std::string>{"coordinator", "--listen", "127.0.0.1:0",
                                 "--token-file", missing},
        std::vector<std::string>{"agent", "--coordinator", "127.0.0.1:1",
                                 "--token-file", missing},
        std::vector<std::string>{"launch", job, "--coordinator", "127.0.0.1:1",
                                 "--token-file", missing}}) {
    auto sp = StartDstrain(args);
    ASSERT_TRUE(sp);
    auto st = sp->Wait(30s);
    ASSERT_TRUE(st.has_value()) << args[0] << " did not exit";
    EXPECT_EQ(testing::ShellExitCode(*st), 2) << sp->Stderr();
    EXPECT_NE(sp->Stderr().find(missing + ": no such file"), std::string::npos)
        << args[0] << ": " << sp->Stderr();
  }
}

// One line saying why, not gRPC's error record and a doubled prefix.
TEST_F(LaunchTest, ACoordinatorOnAPortInUseSaysSoInOneLine) {
  UniqueFd held(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(held.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::listen(held.get(), 1), 0);
  socklen_t len = sizeof(a);
  ::getsockname(held.get(), reinterpret_cast<sockaddr*>(&a), &len);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  const std::string token = WriteTokenFile("token", "port-test-token");

  auto sp =
      StartDstrain({"coordinator", "--listen", address, "--token-file", token});
  ASSERT_TRUE(sp);
  auto st = sp->Wait(30s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*st), 1);
  EXPECT_EQ(sp->Stderr(), "dstrain coordinator: cannot listen on " + address +
                              ": address already in use: another process "
                              "serves " +
                              address +
                              "; stop it or pick another port with --listen\n");
}

TEST_F(LaunchTest, VersionFlagPrintsWhatVersionPrints) {
  auto flag = StartDstrain({"--version"});
  auto command = StartDstrain({"version"});
  ASSERT_TRUE(flag && command);
  auto flag_st = flag->Wait(30s);
  auto command_st = command->Wait(30s);
  ASSERT_TRUE(flag_st.has_value() && command_st.has_value());
  EXPECT_EQ(testing::ShellExitCode(*flag_st), 0) << flag->Stderr();
  EXPECT_EQ(testing::ShellExitCode(*command_st), 0) << command->Stderr();
  EXPECT_EQ(flag->Stdout().rfind("dstrain ", 0), 0u) << flag->Stdout();
  EXPECT_NE(flag->Stdout().find("\nlibtorch "), std::string::npos);
  EXPECT_EQ(flag->Stdout(), command->Stdout());
}

TEST_F(LaunchTest, UnknownFlagsAndCommandsExitTwo) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"launch", "--frobnicate", "x.yaml"},
        std::vector<std::string>{"frobnicate"}, std::vector<std::string>{}}) {
    auto sp = StartDstrain(args);
    ASSERT_TRUE(sp);
    auto st = sp->Wait(30s);
    ASSERT_TRUE(st.has_value());
    EXPECT_EQ(testing::ShellExitCode(*st), 2) << sp->Stderr();
    EXPECT_FALSE(sp->Stderr().empty());
  }
}

}  // namespace
}  // namespace dstrain
