// JobManager at cluster scale: the root cause of a failure is the first in
// time (a node's last heartbeat before a peer's broken connection); a node
// whose failures repeat is cordoned and the restart takes a spare; an
// elastic job goes on with the nodes left, accumulating to keep its global
// batch; a preemption stops the workers with the warning as their grace
// and ends the job CANCELLED. Fake agents, fake clock, inline executor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <mutex>

#include "common/contract/exit_codes.h"
#include "common/testing/status_matchers.h"
#include "coordinator/job_manager.h"
#include "coordinator/node_status.h"
#include "coordinator/testing/fake_agents.h"
#include "coordinator/testing/register_node.h"
#include "coordinator/testing/step_report.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

using std::chrono::milliseconds;
using std::chrono::seconds;

// The agents a start of `attempt` went to, in order.
std::vector<std::string> StartedOn(FakeAgentClient& agents, int attempt) {
  std::lock_guard<std::mutex> lock(agents.mu);
  std::vector<std::string> out;
  for (const FakeAgentClient::Call& c : agents.starts) {
    if (c.start.attempt() == attempt) out.push_back(c.address);
  }
  return out;
}

class JobManagerElasticTest : public ::testing::Test {
 protected:
  JobManagerElasticTest()
      : nodes_(&clock_, seconds(1), 3),
        jobs_(&nodes_, &kv_, &agents_, &executor_, &clock_,
              JobManagerOptions{.coordinator_address = "127.0.0.1:7000",
                                .stop_grace_s = 2.5,
                                .max_history = 1000,
                                .node_network = std::nullopt,
                                .store = nullptr}) {}

  std::string AddNode(const std::string& host) {
    return RegisterNode(nodes_, jobs_, host);
  }
  std::string Launch(int ppn, int min_nodes, int max_nodes, int max_restarts) {
    proto::JobSpec spec;
    spec.set_name("j");
    spec.set_procs_per_node(ppn);
    spec.set_nodes_min(min_nodes);
    spec.set_nodes_max(max_nodes);
    spec.set_max_restarts(max_restarts);
    spec.set_micro_batch(4);
    spec.set_grad_accum(1);
    StatusOr<std::string> id = jobs_.LaunchJob(spec);
    EXPECT_THAT(id, IsOk());
    return id.ok() ? *id : "";
  }
  proto::JobStatus StatusOf(const std::string& job) {
    StatusOr<proto::JobStatus> s = jobs_.GetJobStatus(job, 0);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? *s : proto::JobStatus();
  }
  std::vector<std::string> Causes(const std::string& job) {
    std::vector<std::string> out;
    const proto::JobStatus st = StatusOf(job);
    for (const proto::JobEvent& e : st.events()) {
      out.push_back(e.cause());
    }
    return out;
  }
  void ReportStep(const std::string& job, int attempt, int step,
                  double checkpoint_s = 0) {
    proto::ReportMetricsRequest r;
    proto::StepMetrics* m = AddStep(r, job, attempt, /*rank=*/0, step);
    m->set_step_time_s(0.5);
    m->set_checkpoint_s(checkpoint_s);
    ASSERT_THAT(jobs_.ReportMetrics(r), IsOk());
  }

  FakeClock clock_;
  NodeManager nodes_;
  RendezvousStore kv_;
  FakeAgentClient agents_;
  InlineExecutor executor_;
  JobManager jobs_;
};

TEST_F(JobManagerElasticTest, ALostNodeIsTheRootCauseOfItsPeersEarlierExit) {
  const std::string a = AddNode("a");
  const std::string b = AddNode("b");
  const std::string id = Launch(1, 2, 2, 1);
  ASSERT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  // b goes silent; a beats on. Rank 0 on a loses its connection to b and
  // exits first; b is found lost only heartbeats later.
  clock_.Advance(seconds(1));
  ASSERT_TRUE(nodes_.Heartbeat(a, {0}));
  clock_.Advance(milliseconds(500));
  ASSERT_THAT(jobs_.ReportWorkerExit(a, id, 0, Exit(0, 1)), IsOk());
  EXPECT_EQ(StatusOf(id).restart_reason(), "rank 0 on a exited with code 1");
  clock_.Advance(seconds(3));
  jobs_.OnNodesLost({b});
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.attempt(), 1);
  EXPECT_THAT(st.restart_reason(),
              HasSubstr("node b stopped heartbeating (before rank 0 on a "
                        "exited with code 1, which followed from it)"));
  EXPECT_THAT(Causes(id),
              Contains(AllOf(HasSubstr("restart 1 of 1: node b stopped"),
                             HasSubstr("collateral: rank 0 stopped"))));
}

TEST_F(JobManagerElasticTest, ExitsAfterTheRootCauseAreCollateral) {
  const std::string a = AddNode("a");
  const std::string id = Launch(2, 1, 1, 0);
  ASSERT_THAT(jobs_.ReportWorkerExit(a, id, 0, Exit(1, 0, SIGKILL)), IsOk());
  ASSERT_THAT(jobs_.ReportWorkerExit(a, id, 0, Exit(0, 1)), IsOk());
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(), "rank 1 on a was killed by SIGKILL");
  ASSERT_EQ(st.exits_size(), 2);
  for (const proto::WorkerExit& e : st.exits()) {
    EXPECT_EQ(e.collateral(), e.rank() == 0) << e.DebugString();
  }
}

TEST_F(JobManagerElasticTest, ANodeWhoseFailuresRepeatIsCordonedForASpare) {
  const std::string a = AddNode("a");
  const std::string b = AddNode("b");
  const std::string c = AddNode("c");
  const std::string id = Launch(1, 2, 2, 3);
  EXPECT_EQ(StartedOn(agents_, 0),
            (std::vector<std::string>{"a:9000", "b:9000"}));
  // Rank 1 on b fails at step 5, then (another attempt, further on) at 9.
  ReportStep(id, 0, 5);
  ASSERT_THAT(jobs_.ReportWorkerExit(b, id, 0, Exit(1, 1)), IsOk());
  ASSERT_THAT(jobs_.ReportWorkerExit(a, id, 0, Exit(0, 0, SIGTERM)), IsOk());
  ASSERT_EQ(StatusOf(id).attempt(), 1);
  // The restart takes its previous nodes again.
  EXPECT_EQ(StartedOn(agents_, 1),
            (std::vector<std::string>{"a:9000", "b:9000"}));
  ReportStep(id, 1, 6);
  ReportStep(id, 1, 9);
  ASSERT_THAT(jobs_.ReportWorkerExit(b, id, 1, Exit(1, 0, SIGSEGV)), IsOk());
  ASSERT_THAT(jobs_.ReportWorkerExit(a, id, 1, Exit(0, 0, SIGTERM)), IsOk());
  const proto::JobStatus st = StatusOf(id);
  ASSERT_EQ(st.attempt(), 2);
  // b is cordoned: the spare c takes its place.
  EXPECT_EQ(StartedOn(agents_, 2),
            (std::vector<std::string>{"a:9000", "c:9000"}));
  EXPECT_THAT(Causes(id),
              Contains(HasSubstr("node b cordoned for 10 min: 2 failures in "
                                 "60 min, the latest: rank 1 on b was killed "
                                 "by SIGSEGV")));
  bool listed = false;
  for (const proto::NodeStatus& n : NodeStatuses(nodes_, jobs_)) {
    if (n.node_id() != b) continue;
    listed = true;
    EXPECT_EQ(n.state(), "cordoned");
    EXPECT_THAT(n.cordon_reason(), HasSubstr("2 failures in 60 min"));
    EXPECT_GT(n.cordoned_until_unix_us(), clock_.UnixMicros());
  }
  EXPECT_TRUE(listed);
  // The cordon expires.
  clock_.Advance(std::chrono::minutes(11));
  ASSERT_TRUE(nodes_.Heartbeat(a, {}));
  ASSERT_TRUE(nodes_.Heartbeat(b, {}));
  ASSERT_TRUE(nodes_.Heartbeat(c, {}));
  bool schedulable = false;
  for (const NodeInfo& n : nodes_.SchedulableNodes()) {
    schedulable = schedulable || n.node_id == b;
  }
  EXPECT_TRUE(schedulable);
}

TEST_F(JobManagerElasticTest,
       AnElasticJobGoesOnWithTheNodesLeftAtTheSameBatch) {
  const std::string a = AddNode("a");
  AddNode("b");
  const std::string id = Launch(2, 1, 2, 1);
  ASSERT_EQ(StatusOf(id).world_size(), 4);
  // b goes silent.
  clock_.Advance(seconds(2));
  ASSERT_TRUE(nodes_.Heartbeat(a, {0, 1}));
  clock_.Advance(seconds(2));
  jobs_.OnNodesLost(nodes_.CheckLiveness());
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(0, 0, SIGTERM)), IsOk());
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(1, 0, SIGTERM)), IsOk());
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.attempt(), 1);
  EXPECT_EQ(st.world_size(), 2);
  const proto::StartWorkersRequest& r = agents_.starts.back().start;
  EXPECT_EQ(r.attempt(), 1);
  EXPECT_THAT(r.spec().overrides(), Contains("train.grad_accum=2"));
  EXPECT_THAT(Causes(id),
              Contains(HasSubstr("placed on 1 node (a); grad_accum 2 keeps "
                                 "the global batch of 16 sequences")));
  // At full size nothing is overridden.
  EXPECT_THAT(agents_.starts.front().start.spec().overrides(),
              ::testing::IsEmpty());
}

TEST_F(JobManagerElasticTest, APreemptionSaysWhetherTheCheckpointFits) {
  const std::string a = AddNode("a");
  const std::string id = Launch(2, 1, 1, 2);
  ReportStep(id, 0, 10, /*checkpoint_s=*/0);
  ReportStep(id, 0, 11, /*checkpoint_s=*/2.0);
  StatusOr<PreemptEstimate> e = jobs_.PreemptJob(id, 30, "");
  ASSERT_THAT(e, IsOk());
  EXPECT_DOUBLE_EQ(e->checkpoint_estimate_s, 2.5);
  EXPECT_TRUE(e->fits);
  EXPECT_THAT(e->how, HasSubstr("checkpoint 2 s"));
  ASSERT_FALSE(agents_.stops.empty());
  EXPECT_DOUBLE_EQ(agents_.stops.back().stop.grace_s(), 30);
  for (int rank : {0, 1}) {
    ASSERT_THAT(
        jobs_.ReportWorkerExit(a, id, 0, Exit(rank, contract::kExitRequeue)),
        IsOk());
  }
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_CANCELLED);
  EXPECT_THAT(st.reason(), HasSubstr("preempted"));
  EXPECT_EQ(st.attempt(), 0);  // not restarted
  EXPECT_THAT(jobs_.PreemptJob(id, 30, ""),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(JobManagerElasticTest, ARankKilledBeforeItsCheckpointIsNoRestart) {
  const std::string a = AddNode("a");
  const std::string id = Launch(2, 1, 1, 2);
  StatusOr<PreemptEstimate> e = jobs_.PreemptJob(id, 5, "spot reclaim");
  ASSERT_THAT(e, IsOk());
  EXPECT_LT(e->checkpoint_estimate_s, 0);  // no checkpoint seen yet
  ASSERT_THAT(jobs_.ReportWorkerExit(a, id, 0, Exit(0, contract::kExitRequeue)),
              IsOk());
  ASSERT_THAT(jobs_.ReportWorkerExit(a, id, 0, Exit(1, 0, SIGKILL)), IsOk());
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_CANCELLED);
  EXPECT_THAT(st.reason(),
              HasSubstr("not every rank wrote its checkpoint within the 5"));
  EXPECT_EQ(st.attempt(), 0);
  EXPECT_THAT(jobs_.PreemptJob("nope", 5, ""), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(jobs_.PreemptJob(id, 0.5, ""),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dstrain::coordinator
