// JobManager restarts (fault_tolerance.max_restarts): a failure stops the
// attempt, the next one starts once every rank of it has exited, reports of
// the old attempt are ignored, rank 0's history continues, and the last
// restart's failure ends the job. Fake agents, fake clock, inline executor.
#include <gtest/gtest.h>

#include <csignal>
#include <mutex>

#include "common/testing/status_matchers.h"
#include "coordinator/job_manager.h"
#include "coordinator/testing/fake_agents.h"
#include "coordinator/testing/register_node.h"
#include "coordinator/testing/step_report.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;

using std::chrono::seconds;

class RecordingAgents : public AgentClient {
 public:
  StatusOr<proto::StartWorkersResponse> StartWorkers(
      const std::string& address,
      const proto::StartWorkersRequest& request) override {
    std::lock_guard<std::mutex> lock(mu);
    starts.push_back({address, request});
    return proto::StartWorkersResponse();
  }
  StatusOr<proto::StopWorkersResponse> StopWorkers(
      const std::string& address,
      const proto::StopWorkersRequest& request) override {
    std::lock_guard<std::mutex> lock(mu);
    stops.push_back({address, request});
    return proto::StopWorkersResponse();
  }
  std::mutex mu;
  std::vector<std::pair<std::string, proto::StartWorkersRequest>> starts;
  std::vector<std::pair<std::string, proto::StopWorkersRequest>> stops;
};

class JobManagerRestartTest : public ::testing::Test {
 protected:
  JobManagerRestartTest()
      : nodes_(&clock_, seconds(2), 3),
        jobs_(&nodes_, &kv_, &agents_, &executor_, &clock_,
              JobManagerOptions{"127.0.0.1:7000", 2.5, 1000}) {}

  std::string AddNode(const std::string& host) {
    return RegisterNode(nodes_, jobs_, host);
  }
  std::string Launch(int ppn, int max_restarts) {
    proto::JobSpec spec;
    spec.set_name("j");
    spec.set_procs_per_node(ppn);
    spec.set_nodes_min(1);
    spec.set_nodes_max(1);
    spec.set_yaml("name: j\n");
    spec.set_max_restarts(max_restarts);
    return *jobs_.LaunchJob(spec);
  }
  proto::JobStatus StatusOf(const std::string& job, int since = 0) {
    StatusOr<proto::JobStatus> s = jobs_.GetJobStatus(job, since);
    EXPECT_THAT(s, IsOk()) << s.status().ToString();
    return s.ok() ? *s : proto::JobStatus();
  }
  void ReportStep(const std::string& job, int attempt, int step) {
    proto::ReportMetricsRequest r;
    AddStep(r, job, attempt, /*rank=*/0, step)->set_loss(1.0 / step);
    ASSERT_THAT(jobs_.ReportMetrics(r), IsOk());
  }

  FakeClock clock_;
  NodeManager nodes_;
  RendezvousStore kv_;
  RecordingAgents agents_;
  InlineExecutor executor_;
  JobManager jobs_;
};

TEST_F(JobManagerRestartTest, RestartsOnceEveryRankOfTheAttemptHasExited) {
  AddNode("vm");
  const std::string id = Launch(/*ppn=*/2, /*max_restarts=*/2);
  ASSERT_EQ(agents_.starts.size(), 1u);
  EXPECT_EQ(StatusOf(id).max_restarts(), 2);

  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(1, 0, SIGKILL)), IsOk());
  proto::JobStatus st = StatusOf(id);
  // Not failed, not restarted yet: rank 0 still runs.
  EXPECT_EQ(st.state(), proto::JOB_RUNNING);
  EXPECT_EQ(st.attempt(), 0);
  ASSERT_EQ(agents_.stops.size(), 1u);
  EXPECT_EQ(agents_.stops[0].first, "vm:9000");
  EXPECT_EQ(agents_.starts.size(), 1u);
  EXPECT_TRUE(kv_.HasJob(id));

  // The stopped rank 0 reports: the next attempt starts.
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(0, 0, SIGTERM)), IsOk());
  st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_RUNNING);
  EXPECT_EQ(st.attempt(), 1);
  EXPECT_EQ(st.restart_reason(), "rank 1 on vm was killed by SIGKILL");
  EXPECT_EQ(st.exits_size(), 0);
  ASSERT_EQ(agents_.starts.size(), 2u);
  EXPECT_EQ(agents_.starts[1].second.attempt(), 1);
  EXPECT_EQ(agents_.starts[1].second.world_size(), 2);
  EXPECT_EQ(agents_.starts[1].second.ranks_size(), 2);

  // A late report of attempt 0 changes nothing.
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(1, 1)), IsOk());
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  EXPECT_EQ(StatusOf(id).exits_size(), 0);

  // Attempt 1 succeeds.
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 1, Exit(0, 0)), IsOk());
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 1, Exit(1, 0)), IsOk());
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_SUCCEEDED);
}

TEST_F(JobManagerRestartTest, TheFailureAfterTheLastRestartFailsTheJob) {
  AddNode("vm");
  const std::string id = Launch(/*ppn=*/1, /*max_restarts=*/1);
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(0, 3)), IsOk());
  EXPECT_EQ(StatusOf(id).attempt(), 1);  // the only rank: restarted at once
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 1, Exit(0, 0, SIGKILL)), IsOk());
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.attempt(), 1);
  EXPECT_EQ(st.reason(), "rank 0 on vm was killed by SIGKILL");
  EXPECT_FALSE(kv_.HasJob(id));
  EXPECT_EQ(agents_.starts.size(), 2u);
}

TEST_F(JobManagerRestartTest, WithoutRestartsAFailureEndsTheJob) {
  AddNode("vm");
  const std::string id = Launch(/*ppn=*/2, /*max_restarts=*/0);
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(1, 0, SIGKILL)), IsOk());
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_FAILED);
  EXPECT_EQ(agents_.starts.size(), 1u);
}

TEST_F(JobManagerRestartTest, HistoryContinuesFromTheResumedStep) {
  AddNode("vm");
  const std::string id = Launch(/*ppn=*/1, /*max_restarts=*/1);
  for (int s = 1; s <= 17; ++s) ReportStep(id, 0, s);
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(0, 0, SIGKILL)), IsOk());
  ASSERT_EQ(StatusOf(id).attempt(), 1);
  // Attempt 1 resumed from the checkpoint at step 10.
  for (int s = 11; s <= 20; ++s) ReportStep(id, 1, s);
  ReportStep(id, 0, 18);  // a straggler of the old attempt: ignored
  const proto::JobStatus st = StatusOf(id);
  ASSERT_EQ(st.history_size(), 20);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(st.history(i).step(), i + 1);
    EXPECT_EQ(st.history(i).attempt(), i < 10 ? 0 : 1) << "step " << i + 1;
  }
}

TEST_F(JobManagerRestartTest, LostNodeRestartsOnceTheOthersExited) {
  const std::string n1 = AddNode("a");
  const std::string n2 = AddNode("b");
  proto::JobSpec spec;
  spec.set_name("j");
  spec.set_procs_per_node(1);
  spec.set_nodes_min(2);
  spec.set_nodes_max(2);
  spec.set_max_restarts(1);
  const std::string id = *jobs_.LaunchJob(spec);
  ASSERT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  jobs_.OnNodesLost({n2});
  EXPECT_EQ(StatusOf(id).attempt(), 0);
  // Only the reachable agent is told to stop.
  ASSERT_EQ(agents_.stops.size(), 1u);
  EXPECT_EQ(agents_.stops[0].first, "a:9000");
  // Rank 1 was on the lost node: rank 0's exit is the last one awaited.
  ASSERT_THAT(jobs_.ReportWorkerExit(n1, id, 0, Exit(0, 0, SIGTERM)), IsOk());
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.attempt(), 1);
  EXPECT_EQ(st.restart_reason(), "node b stopped heartbeating");
  EXPECT_NE(st.state(), proto::JOB_FAILED);
}

}  // namespace
}  // namespace dstrain::coordinator

namespace dstrain::coordinator {
namespace {

// Not restarting what cannot succeed.
class JobManagerRecurringFailureTest : public JobManagerRestartTest {
 protected:
  // Rank `rank` of `attempt` fails at `step` with `message` (after rank 0
  // reported that step); the other rank is stopped.
  void FailAt(const std::string& id, int attempt, int first_step, int step,
              int rank, const std::string& message) {
    for (int s = first_step; s <= step; ++s) ReportStep(id, attempt, s);
    proto::WorkerExit e = Exit(rank, 1);
    e.set_last_error(message);
    ASSERT_THAT(jobs_.ReportWorkerExit("", id, attempt, e), IsOk());
    if (StatusOf(id).state() == proto::JOB_RUNNING &&
        StatusOf(id).attempt() == attempt) {
      ASSERT_THAT(
          jobs_.ReportWorkerExit("", id, attempt, Exit(1 - rank, 0, SIGTERM)),
          IsOk());
    }
  }
};

TEST_F(JobManagerRecurringFailureTest,
       TheSameFailureTwiceStopsWithRestartsLeft) {
  AddNode("vm");
  const std::string id = Launch(/*ppn=*/2, /*max_restarts=*/5);
  FailAt(id, 0, 1, 3, 1, "dstrain worker: rank 1: bad batch 17");
  ASSERT_EQ(StatusOf(id).attempt(), 1);
  // The same error on the other rank, at the same step: it will recur.
  FailAt(id, 1, 1, 3, 0, "dstrain worker: rank 0: bad batch 17");
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.attempt(), 1);
  EXPECT_EQ(st.reason(),
            "the same failure as attempt 0, at step 3: rank 0 on vm exited "
            "with code 1: dstrain worker: rank 0: bad batch 17; not "
            "restarting what cannot succeed (4 restarts left)");
}

TEST_F(JobManagerRecurringFailureTest, ADifferentFailureOrStepRestartsAgain) {
  AddNode("vm");
  const std::string id = Launch(/*ppn=*/2, /*max_restarts=*/3);
  FailAt(id, 0, 1, 3, 1, "dstrain worker: out of disk");
  ASSERT_EQ(StatusOf(id).attempt(), 1);
  // Another step (the attempt got further: resumed at 3, failed at 9).
  FailAt(id, 1, 3, 9, 1, "dstrain worker: out of disk");
  ASSERT_EQ(StatusOf(id).attempt(), 2);
  // Another error.
  FailAt(id, 2, 9, 12, 1, "dstrain worker: connection reset");
  EXPECT_EQ(StatusOf(id).attempt(), 3);
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
}

TEST_F(JobManagerRecurringFailureTest, NoNewerCheckpointAndNoFurtherStops) {
  AddNode("vm");
  const std::string id = Launch(/*ppn=*/2, /*max_restarts=*/5);
  FailAt(id, 0, 1, 8, 1, "dstrain worker: error A");
  ASSERT_EQ(StatusOf(id).attempt(), 1);
  // Resumed at 6 (a checkpoint at 5), failed at 8 differently.
  FailAt(id, 1, 6, 8, 1, "dstrain worker: error B");
  ASSERT_EQ(StatusOf(id).attempt(), 2);
  // Resumed at 6 again (nothing newer was saved) and failed at 7: it
  // would go round for ever.
  FailAt(id, 2, 6, 7, 1, "dstrain worker: error C");
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(),
            "attempts 1 and 2 both resumed at step 6 (no newer checkpoint) "
            "and failed by step 8: rank 1 on vm exited with code 1: dstrain "
            "worker: error C; not restarting what cannot succeed (3 restarts "
            "left)");
}

}  // namespace
}  // namespace dstrain::coordinator
