// A coordinator killed with SIGKILL during a running two-node job, twice,
// and started again on the same --state and address, as systemd or an
// operator would: the job finishes SUCCEEDED without a restart of its own.
// Real processes throughout: the coordinator, two agents ("node-a",
// "node-b"), and `dstrain launch --coordinator` following the job.
//
// The first kill comes as soon as the workers are started, before their
// first step (they are importing torch or in their rendezvous: the
// rendezvous must complete against the new coordinator); the second at a
// random step of training. Asserted: the same worker processes run from the
// first step to the end (nothing restarted), the attempt stays 0, rank 0's
// step history is every step once and in order, the step the coordinator
// reports never goes back while it is polled, the launch exits 0, and the
// job's events show both restarts and both re-adoptions.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"
#include "tests/util/dstrain_test.h"
#include "tests/util/process_table.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;

constexpr const char* kToken = "restart-test-token";
constexpr int kSteps = 2000;  // about 15 s: still running after kill 2

class CoordinatorRestartTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    token_ = WriteTokenFile("token", kToken);
    state_ = (dir_ / "state").string();
  }
  void TearDown() override {
    for (auto* p : {&launch_, &agent_a_, &agent_b_, &coord_}) {
      if (*p == nullptr || (*p)->exited()) continue;
      (*p)->Signal(SIGTERM);
      (*p)->Wait(20s);
    }
    DstrainTest::TearDown();
  }

  void StartCoordinatorAt(const std::string& listen) {
    coord_ = StartCoordinator(token_, &address_,
                              {"--state", state_, "--restore-grace", "60"},
                              listen);
    ASSERT_TRUE(coord_);
  }

  std::unique_ptr<Subprocess> StartAgent(const std::string& host) {
    return StartDstrain({"agent", "--coordinator", address_, "--token-file",
                         token_, "--listen", "127.0.0.1:0", "--hostname",
                         host});
  }

  // The job's status; nullopt while the coordinator does not answer.
  std::optional<proto::JobStatus> Poll() {
    coordinator::CoordinatorClient client(address_, kToken);
    StatusOr<proto::JobStatus> st = client.GetJobStatus(job_id_, 0);
    if (!st.ok()) return std::nullopt;
    int step = st->history_size() > 0
                   ? st->history(st->history_size() - 1).step()
                   : 0;
    EXPECT_GE(step, last_step_) << "the job's step went back";
    last_step_ = std::max(last_step_, step);
    return *st;
  }

  // Polls until `done` holds for a status (deadline `limit`).
  bool PollUntil(const std::function<bool(const proto::JobStatus&)>& done,
                 std::chrono::seconds limit) {
    return testing::WaitFor(
        [&] {
          std::optional<proto::JobStatus> st = Poll();
          return st.has_value() && done(*st);
        },
        limit, 50ms);
  }

  // The PIDs of this test's worker processes (`dstrain worker` under an
  // agent of this test).
  std::set<pid_t> Workers() {
    std::set<pid_t> pids;
    for (const testing::ProcInfo& p : testing::ListProcesses()) {
      if ((p.ppid == agent_a_->pid() || p.ppid == agent_b_->pid()) &&
          p.cmdline.find(" worker ") != std::string::npos) {
        pids.insert(p.pid);
      }
    }
    return pids;
  }

  // SIGKILL, then the same coordinator again on the same state and port.
  void KillAndRestartCoordinator() {
    coord_->Signal(SIGKILL);
    ASSERT_TRUE(coord_->Wait(20s).has_value());
    const std::string address = address_;
    ASSERT_NO_FATAL_FAILURE(StartCoordinatorAt(address));
    ASSERT_EQ(address_, address);
  }

  std::string token_, state_, address_, job_id_;
  int last_step_ = 0;
  std::unique_ptr<Subprocess> coord_, agent_a_, agent_b_, launch_;
};

TEST_F(CoordinatorRestartTest, AJobOutlivesTwoKillsOfItsCoordinator) {
  ASSERT_NO_FATAL_FAILURE(StartCoordinatorAt("127.0.0.1:0"));
  agent_a_ = StartAgent("node-a");
  agent_b_ = StartAgent("node-b");
  ASSERT_TRUE(agent_a_ && agent_b_);
  const std::string job = WriteFile(
      "job.yaml", testing::TinyJobYaml("survivor", kSteps, /*procs=*/1) +
                      "nodes: {min: 2, max: 2}\n");
  launch_ = StartDstrain({"launch", job, "--coordinator", address_,
                          "--token-file", token_, "--run-dir",
                          (dir_ / "run").string(), "--quiet", "--json"});
  ASSERT_TRUE(launch_);
  ASSERT_TRUE(testing::WaitFor([&] { return Workers().size() == 2; }, 120s))
      << launch_->Stderr() << agent_a_->Stderr();
  const std::set<pid_t> workers = Workers();
  job_id_ = testing::EnvironOf(*workers.begin(), "DSTRAIN_JOB_ID");
  ASSERT_FALSE(job_id_.empty());

  // Kill 1: the workers are starting (no step yet: importing, rendezvous).
  std::optional<proto::JobStatus> first = Poll();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->history_size(), 0) << "the tiny job was faster than "
                                          "the test: no kill before step 1";
  ASSERT_NO_FATAL_FAILURE(KillAndRestartCoordinator());
  std::printf("first kill before step 1; ");
  ASSERT_TRUE(PollUntil(
      [](const proto::JobStatus& st) {
        return st.history_size() > 0 &&
               st.events(st.events_size() - 1).cause().find("re-adopted") !=
                   std::string::npos;
      },
      120s))
      << coord_->Stderr() << agent_a_->Stderr();

  // Kill 2: at a random step of training.
  std::mt19937 rng(std::random_device{}());
  const int at = last_step_ + 5 + static_cast<int>(rng() % 40);
  ASSERT_TRUE(PollUntil(
      [&](const proto::JobStatus& st) {
        return st.history_size() > 0 &&
               st.history(st.history_size() - 1).step() >= at;
      },
      120s));
  ASSERT_LT(last_step_, kSteps) << "the job ended before the second kill";
  EXPECT_EQ(Workers(), workers) << "workers were restarted";
  std::printf("second kill at step %d of %d\n", last_step_, kSteps);
  ASSERT_NO_FATAL_FAILURE(KillAndRestartCoordinator());

  ASSERT_TRUE(PollUntil(
      [](const proto::JobStatus& st) {
        return st.state() == proto::JOB_SUCCEEDED ||
               st.state() == proto::JOB_FAILED ||
               st.state() == proto::JOB_CANCELLED;
      },
      300s))
      << coord_->Stderr();
  auto launched = launch_->Wait(60s);
  ASSERT_TRUE(launched.has_value());
  EXPECT_EQ(testing::ShellExitCode(*launched), 0)
      << launch_->Stdout() << launch_->Stderr();

  std::optional<proto::JobStatus> end = Poll();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->state(), proto::JOB_SUCCEEDED) << end->reason();
  EXPECT_EQ(end->attempt(), 0);
  ASSERT_EQ(end->history_size(), kSteps);
  for (int i = 0; i < kSteps; ++i) {
    EXPECT_EQ(end->history(i).step(), i + 1);
    EXPECT_EQ(end->history(i).attempt(), 0);
  }
  EXPECT_EQ(end->results_size(), 2);
  int restarts = 0, adoptions = 0;
  std::string events;
  for (const proto::JobEvent& e : end->events()) {
    events += e.cause() + "\n";
    restarts += e.cause().rfind("the coordinator restarted", 0) == 0;
    adoptions += e.cause().rfind("re-adopted the workers on 2 nodes", 0) == 0;
    if (e.from_state() != proto::JOB_STATE_UNSPECIFIED) {
      EXPECT_NE(e.to_state(), proto::JOB_PENDING)
          << "the job was restarted: " << e.cause();
    }
  }
  EXPECT_EQ(restarts, 2) << events;
  EXPECT_EQ(adoptions, 2) << events;
}

}  // namespace
}  // namespace dstrain
