// WorkerLauncher with real /bin/sh children: environment, prefixes, metrics,
// exits, the group kill on failure, Stop's grace then SIGKILL.
#include "agent/worker_launcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "agent/worker_env.h"
#include "common/cpu_affinity.h"
#include "common/testing/status_matchers.h"
#include "tests/util/process_table.h"
#include "tests/util/wait_for.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using ::testing::Contains;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Collects the launcher's callbacks; every accessor copies under the lock.
class Recorder {
 public:
  LauncherCallbacks Callbacks() {
    LauncherCallbacks cb;
    cb.on_log = [this](int, const std::string& line) { Add(&logs_, line); };
    cb.on_step = [this](const std::string&, int, const proto::StepMetrics& m) {
      Add(&steps_, m);
      Add(&order_, "step " + std::to_string(m.rank()));
    };
    cb.on_result = [this](const std::string&, int, const proto::RankResult& r) {
      Add(&results_, r);
      Add(&order_, "result " + std::to_string(r.rank()));
    };
    cb.on_exit = [this](const std::string&, int, const proto::WorkerExit& e) {
      Add(&exits_, e);
      Add(&order_, "exit " + std::to_string(e.rank()));
    };
    cb.on_job_done = [this](const std::string& id, int) { Add(&done_, id); };
    return cb;
  }

  template <typename T>
  void Add(std::vector<T>* v, T x) {
    std::lock_guard<std::mutex> lock(mu_);
    v->push_back(std::move(x));
  }
  template <typename T>
  std::vector<T> Get(const std::vector<T>& v) {
    std::lock_guard<std::mutex> lock(mu_);
    return v;
  }
  std::vector<std::string> logs() { return Get(logs_); }
  std::vector<proto::StepMetrics> steps() { return Get(steps_); }
  std::vector<proto::RankResult> results() { return Get(results_); }
  std::vector<proto::WorkerExit> exits() { return Get(exits_); }
  std::vector<std::string> done() { return Get(done_); }
  std::vector<std::string> order() { return Get(order_); }

  bool HasLog(const std::string& needle) {
    for (const auto& l : logs()) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  proto::WorkerExit ExitOf(int rank) {
    for (const auto& e : exits()) {
      if (e.rank() == rank) return e;
    }
    ADD_FAILURE() << "no exit for rank " << rank;
    return {};
  }

 private:
  std::mutex mu_;
  std::vector<std::string> logs_, done_, order_;
  std::vector<proto::StepMetrics> steps_;
  std::vector<proto::RankResult> results_;
  std::vector<proto::WorkerExit> exits_;
};

// A job whose every rank runs `script` under /bin/sh, with the worker
// contract's environment from BuildJobLaunch.
JobLaunch ShellJob(const std::string& job_id, int ranks,
                   const std::vector<std::string>& scripts,
                   const proto::NodeInventory& inventory = {},
                   const std::string& device = "cpu") {
  proto::StartWorkersRequest req;
  req.set_job_id(job_id);
  req.set_attempt(1);
  req.set_world_size(ranks);
  req.set_coordinator_address("127.0.0.1:1");
  req.mutable_spec()->set_source_path("/tmp/job.yaml");
  for (int i = 0; i < ranks; ++i) {
    auto* a = req.add_ranks();
    a->set_rank(i);
    a->set_local_rank(i);
  }
  req.mutable_spec()->set_numa_binding("auto");
  req.mutable_spec()->set_device(device);
  auto launch = BuildJobLaunch(req, {"/bin/sh", "tok", CurrentEnvironment(),
                                     inventory, ThisProcessCpus()});
  EXPECT_THAT(launch, IsOk()) << launch.status().ToString();
  for (int i = 0; i < ranks; ++i) {
    const std::string& s = scripts[std::min<size_t>(i, scripts.size() - 1)];
    launch->ranks[i].argv = {"/bin/sh", "-c", s};
  }
  return std::move(*launch);
}

LauncherOptions Options(Recorder& rec, double grace = 3.0) {
  LauncherOptions o;
  o.hostname = "testhost";
  o.failure_grace_s = grace;
  o.callbacks = rec.Callbacks();
  return o;
}

bool GroupEmpty(pid_t pgid) {
  return dstrain::testing::ProcessesInGroup(pgid).empty();
}

TEST(WorkerLauncherTest, SetsEnvironmentAndPrefixesOutput) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  auto pids = launcher.Start(ShellJob(
      "env", 2,
      {"echo \"rank=$RANK world=$WORLD_SIZE local=$LOCAL_RANK/"
       "$LOCAL_WORLD_SIZE job=$DSTRAIN_JOB_ID attempt=$DSTRAIN_ATTEMPT "
       "coord=$DSTRAIN_COORDINATOR token=$DSTRAIN_TOKEN "
       "fd=$DSTRAIN_METRICS_FD\"; "
       "echo to-stderr >&2; printf 'no newline at the end'"}));
  ASSERT_THAT(pids, IsOk()) << pids.status().ToString();
  ASSERT_EQ(pids->size(), 2u);
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.done().size() == 1; }, 10s));
  for (int r = 0; r < 2; ++r) {
    std::string p = "[rank " + std::to_string(r) + " testhost] ";
    EXPECT_THAT(rec.logs(), Contains(p + "rank=" + std::to_string(r) +
                                     " world=2 local=" + std::to_string(r) +
                                     "/2 job=env attempt=1 "
                                     "coord=127.0.0.1:1 token=tok fd=3"));
    EXPECT_THAT(rec.logs(), Contains(p + "to-stderr"));
    EXPECT_THAT(rec.logs(), Contains(p + "no newline at the end"));
    EXPECT_EQ(rec.ExitOf(r).exit_code(), 0);
    EXPECT_EQ(rec.ExitOf(r).signal(), 0);
  }
  EXPECT_TRUE(launcher.JobIds().empty());
}

TEST(WorkerLauncherTest, ChildSeesOnlyStdioAndMetricsFds) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  // Rank 0: `read` fails at once because stdin is /dev/null. Rank 1: ls
  // lists its own descriptors (no shell in between to add its own).
  JobLaunch job = ShellJob("fds", 2, {"read x; echo read=$?"});
  job.ranks[1].argv = {"/bin/ls", "-1", "/proc/self/fd"};
  ASSERT_THAT(launcher.Start(job), IsOk());
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.done().size() == 1; }, 10s));
  EXPECT_TRUE(rec.HasLog("[rank 0 testhost] read=1"));
  std::vector<int> fds;
  for (const auto& l : rec.logs()) {
    const std::string p = "[rank 1 testhost] ";
    if (l.rfind(p, 0) == 0) fds.push_back(std::stoi(l.substr(p.size())));
  }
  // 0-3, plus the one ls opened to read the directory: nothing of the
  // launcher's (other ranks' pipes, its eventfd, pidfds) leaks in.
  EXPECT_EQ(fds, (std::vector<int>{0, 1, 2, 3, 4}))
      << ::testing::PrintToString(rec.logs());
}

TEST(WorkerLauncherTest, ParsesMetricsAndRelaysResultBeforeExit) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  ASSERT_THAT(launcher.Start(ShellJob(
                  "metrics", 2,
                  {"echo '{\"type\":\"step\",\"step\":1,\"total_steps\":2,"
                   "\"loss\":3.5,\"lr\":0.01,\"tokens_per_s\":100}' >&3; "
                   "echo 'garbage' >&3; "
                   "printf '{\"type\":\"result\",\"steps\":2,"
                   "\"param_digest\":\"abc\"}' >&3"})),
              IsOk());
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.done().size() == 1; }, 10s));
  ASSERT_EQ(rec.steps().size(), 2u);
  for (const auto& m : rec.steps()) {
    EXPECT_EQ(m.job_id(), "metrics");
    EXPECT_EQ(m.attempt(), 1);
    EXPECT_EQ(m.step(), 1);
    EXPECT_DOUBLE_EQ(m.loss(), 3.5);
  }
  ASSERT_EQ(rec.results().size(), 2u);
  EXPECT_EQ(rec.results()[0].param_digest(), "abc");
  EXPECT_TRUE(rec.HasLog("dropped a metrics line"));
  // Per rank: step, then result, then exit.
  auto order = rec.order();
  for (int r = 0; r < 2; ++r) {
    auto pos = [&](const std::string& what) {
      return std::find(order.begin(), order.end(),
                       what + " " + std::to_string(r)) -
             order.begin();
    };
    EXPECT_LT(pos("step"), pos("result"));
    EXPECT_LT(pos("result"), pos("exit"));
  }
}

TEST(WorkerLauncherTest, ReportsExitCodesAndSignals) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  // Two one-rank jobs, so neither failure stops the other.
  ASSERT_THAT(launcher.Start(ShellJob("code", 1, {"exit 3"})), IsOk());
  ASSERT_THAT(launcher.Start(ShellJob("signal", 1, {"kill -9 $$"})), IsOk());
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.done().size() == 2; }, 10s));
  ASSERT_EQ(rec.exits().size(), 2u);
  for (const auto& e : rec.exits()) {
    if (e.signal() == 0) {
      EXPECT_EQ(e.exit_code(), 3);
    } else {
      EXPECT_EQ(e.signal(), SIGKILL);
    }
    EXPECT_EQ(e.reason(), "");
  }
  EXPECT_NE(rec.exits()[0].signal(), rec.exits()[1].signal());
}

TEST(WorkerLauncherTest, FailureKillsTheRestOfTheGroup) {
  Recorder rec;
  // A grace period longer than the wait below: had the launcher waited for
  // it instead of rank 0 dying of SIGTERM, the wait would fail (and the exit
  // would be SIGKILL) -- no timing assertion needed.
  WorkerLauncher launcher(Options(rec, /*grace=*/120.0));
  // Rank 0 would run for 1000 s; rank 1 fails at once.
  auto pids = launcher.Start(ShellJob(
      "fail", 2, {"if [ $RANK = 0 ]; then exec sleep 1000; fi; exit 3"}));
  ASSERT_THAT(pids, IsOk());
  // Rank 0 leads the job's process group. Not launcher.ProcessGroup("fail"):
  // the whole job may already be over (rank 1 fails at once) and forgotten.
  pid_t pgid = (*pids)[0];
  ASSERT_GT(pgid, 1);
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.done().size() == 1; }, 60s))
      << dstrain::testing::Describe(dstrain::testing::ProcessesInGroup(pgid));
  auto e1 = rec.ExitOf(1);
  EXPECT_EQ(e1.exit_code(), 3);
  EXPECT_EQ(e1.reason(), "");
  auto e0 = rec.ExitOf(0);
  EXPECT_EQ(e0.signal(), SIGTERM);
  EXPECT_EQ(e0.reason(), "stopped after rank 1 exited with code 3");
  EXPECT_TRUE(GroupEmpty(pgid));
}

// The failing rank's last stderr lines travel with its exit; the ranks
// stopped because of it carry none.
TEST(WorkerLauncherTest, AFailedRanksLastErrorLinesTravelWithItsExit) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  ASSERT_THAT(launcher.Start(ShellJob(
                  "why", 2,
                  {"if [ $RANK = 0 ]; then exec sleep 1000; fi; "
                   "echo 'loading' >&2; echo 'step 1' ; "
                   "echo 'error: device: cuda but no CUDA device is visible' "
                   ">&2; echo '  (set device: cpu)' >&2; echo >&2; exit 2"})),
              IsOk());
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.done().size() == 1; }, 60s));
  EXPECT_EQ(rec.ExitOf(1).last_error(),
            "error: device: cuda but no CUDA device is visible |   (set "
            "device: cpu)");
  EXPECT_EQ(rec.ExitOf(0).last_error(), "");
}

TEST(WorkerLauncherTest, RanksShareOneProcessGroupOfTheirOwn) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  auto pids = launcher.Start(ShellJob("group", 3, {"exec sleep 1000"}));
  ASSERT_THAT(pids, IsOk());
  pid_t pgid = launcher.ProcessGroup("group");
  EXPECT_EQ(pgid, (*pids)[0]);
  EXPECT_NE(pgid, getpgrp());
  auto members = dstrain::testing::ProcessesInGroup(pgid);
  EXPECT_EQ(members.size(), 3u) << dstrain::testing::Describe(members);
  EXPECT_EQ(launcher.RunningRanks(), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(launcher.StopAndWait("group", 5, "test over"), 3);
  EXPECT_TRUE(GroupEmpty(pgid));
  for (const auto& e : rec.exits()) {
    EXPECT_EQ(e.signal(), SIGTERM);
    EXPECT_EQ(e.reason(), "stopped: test over");
  }
}

TEST(WorkerLauncherTest, StopEscalatesToSigkillAfterGrace) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  // The shell ignores SIGTERM (the trap), so only SIGKILL ends it.
  ASSERT_THAT(launcher.Start(ShellJob("stubborn", 1,
                                      {"trap 'echo got-term' TERM; echo ready; "
                                       "while :; do sleep 0.05; done"})),
              IsOk());
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.HasLog("ready"); }, 10s));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(launcher.StopAndWait("stubborn", 0.5, "cancelled"), 1);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 5s);
  EXPECT_TRUE(rec.HasLog("got-term"));
  EXPECT_EQ(rec.ExitOf(0).signal(), SIGKILL);
  EXPECT_EQ(rec.done().size(), 1u);
}

TEST(WorkerLauncherTest, StopOfUnknownJobReturnsAtOnce) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  EXPECT_EQ(launcher.StopAndWait("nope", 1, ""), 0);
}

TEST(WorkerLauncherTest, ExecFailureIsAnErrorAndLeavesNothing) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  JobLaunch job = ShellJob("bad", 2, {"exec sleep 1000"});
  job.ranks[1].argv = {"/nonexistent/dstrain", "worker"};
  auto pids = launcher.Start(job);
  ASSERT_THAT(pids, Not(IsOk()));
  EXPECT_THAT(pids.status().message(), HasSubstr("rank 1"));
  EXPECT_THAT(pids.status().message(), HasSubstr("/nonexistent/dstrain"));
  EXPECT_THAT(pids.status().message(), HasSubstr("No such file"));
  EXPECT_TRUE(launcher.JobIds().empty());
  EXPECT_TRUE(rec.exits().empty());
  for (const auto& p : dstrain::testing::ChildrenOf(getpid())) {
    ADD_FAILURE() << "left a child: " << p.pid << " " << p.cmdline;
  }
}

// An inventory that splits this machine's first two CPUs into two NUMA
// nodes. Only node 0 exists for the kernel's memory policy.
proto::NodeInventory TwoCpuNodes() {
  proto::NodeInventory inv;
  for (int id : {0, 1}) {
    proto::NumaNode* n = inv.add_numa_nodes();
    n->set_id(id);
    n->add_cpus(id);
  }
  return inv;
}

TEST(WorkerLauncherTest, BoundRankRunsOnItsNodesCpusWithItsMemoryPreferred) {
  const std::vector<int> cpus = ThisProcessCpus();
  if (cpus.size() < 2 || cpus[0] != 0 || cpus[1] != 1) {
    GTEST_SKIP() << "needs CPUs 0 and 1";
  }
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  // One cuda rank whose GPU hangs off node 0 (CPU 0).
  proto::NodeInventory inv = TwoCpuNodes();
  proto::Gpu* gpu = inv.add_gpus();
  gpu->set_index(0);
  gpu->set_numa_node(0);
  auto pids = launcher.Start(
      ShellJob("bound", 1,
               {"echo numa=$DSTRAIN_NUMA_NODE; grep Cpus_allowed_list "
                "/proc/self/status; "
                "echo prefer=$(grep -c prefer:0 /proc/self/numa_maps)"},
               inv, "cuda"));
  ASSERT_THAT(pids, IsOk()) << pids.status().ToString();
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return rec.done().size() == 1; }, 10s));
  EXPECT_TRUE(rec.HasLog("[rank 0 testhost] numa=0"));
  EXPECT_TRUE(rec.HasLog("[rank 0 testhost] Cpus_allowed_list:\t0"));
  EXPECT_FALSE(rec.HasLog("[rank 0 testhost] prefer=0"));
  EXPECT_TRUE(rec.HasLog("[rank 0 testhost] prefer="));
  EXPECT_EQ(rec.ExitOf(0).exit_code(), 0);
}

TEST(WorkerLauncherTest, BindingThatCannotBeAppliedFailsTheStartNamingIt) {
  const std::vector<int> cpus = ThisProcessCpus();
  if (cpus.size() < 2 || cpus[0] != 0 || cpus[1] != 1) {
    GTEST_SKIP() << "needs CPUs 0 and 1";
  }
  if (std::filesystem::exists("/sys/devices/system/node/node1")) {
    GTEST_SKIP() << "this machine has a NUMA node 1";
  }
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  // Rank 1 lands on node 1, which the kernel does not have.
  auto pids = launcher.Start(
      ShellJob("unbindable", 2, {"exec sleep 1000"}, TwoCpuNodes()));
  ASSERT_THAT(pids, Not(IsOk()));
  EXPECT_THAT(pids.status().message(),
              HasSubstr("rank 1: cannot prefer NUMA node 1 for the memory of "
                        "`/bin/sh`: Invalid argument"));
  EXPECT_TRUE(launcher.JobIds().empty());
  for (const auto& p : dstrain::testing::ChildrenOf(getpid())) {
    ADD_FAILURE() << "left a child: " << p.pid << " " << p.cmdline;
  }
}

TEST(WorkerLauncherTest, DuplicateJobIsRefused) {
  Recorder rec;
  WorkerLauncher launcher(Options(rec));
  ASSERT_THAT(launcher.Start(ShellJob("dup", 1, {"exec sleep 1000"})), IsOk());
  auto again = launcher.Start(ShellJob("dup", 1, {"exec sleep 1000"}));
  ASSERT_THAT(again, Not(IsOk()));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST(WorkerLauncherTest, DestructorKillsAndReapsEverything) {
  pid_t pgid;
  {
    Recorder rec;
    WorkerLauncher launcher(Options(rec));
    ASSERT_THAT(
        launcher.Start(ShellJob("die", 2, {"trap '' TERM; exec sleep 1000"})),
        IsOk());
    pgid = launcher.ProcessGroup("die");
  }
  EXPECT_TRUE(GroupEmpty(pgid));
  EXPECT_TRUE(dstrain::testing::ChildrenOf(getpid()).empty());
}

}  // namespace
}  // namespace dstrain::agent
