#include "coordinator/job_manager.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>

#include "common/testing/status_matchers.h"
#include "coordinator/access.h"
#include "coordinator/testing/fake_agents.h"
#include "coordinator/testing/register_node.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;

using std::chrono::seconds;

proto::JobSpec Spec(const std::string& name, int ppn, int nmin, int nmax) {
  proto::JobSpec spec;
  spec.set_name(name);
  spec.set_procs_per_node(ppn);
  spec.set_nodes_min(nmin);
  spec.set_nodes_max(nmax);
  spec.set_yaml("name: " + name + "\n");
  return spec;
}

proto::StepMetrics Step(const std::string& job, int rank, int step,
                        double loss) {
  proto::StepMetrics m;
  m.set_job_id(job);
  m.set_rank(rank);
  m.set_step(step);
  m.set_loss(loss);
  return m;
}

class JobManagerTest : public ::testing::Test {
 protected:
  JobManagerTest()
      : nodes_(&clock_, seconds(2), 3),
        jobs_(&nodes_, &kv_, &agents_, &executor_, &clock_,
              JobManagerOptions{"127.0.0.1:7000", 2.5, 5}) {}

  std::string AddNode(const std::string& host) {
    return RegisterNode(nodes_, jobs_, host);
  }
  proto::JobStatus StatusOf(const std::string& job, int since = 0) {
    StatusOr<proto::JobStatus> s = jobs_.GetJobStatus(job, since);
    EXPECT_THAT(s, IsOk()) << s.status().ToString();
    return s.ok() ? *s : proto::JobStatus();
  }

  FakeClock clock_;
  NodeManager nodes_;
  RendezvousStore kv_;
  FakeAgentClient agents_;
  InlineExecutor executor_;
  JobManager jobs_;
};

TEST_F(JobManagerTest, RejectsUnusableNumbers) {
  EXPECT_EQ(jobs_.LaunchJob(Spec("x", 0, 1, 1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs_.LaunchJob(Spec("x", 1, 0, 1)).status().code(),
            StatusCode::kInvalidArgument);
  StatusOr<std::string> bad = jobs_.LaunchJob(Spec("x", 1, 3, 2));
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("nodes.max"), std::string::npos);
}

// A pending job says why it waits: too few nodes registered, nodes busy
// with another job, or a job ahead of it in the queue.
TEST_F(JobManagerTest, APendingJobSaysWhyItWaits) {
  StatusOr<std::string> first = jobs_.LaunchJob(Spec("first", 1, 1, 1));
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(StatusOf(*first).pending_reason(),
            "needs 1 free node: 0 registered; waiting for 1 more to register");
  AddNode("alpha");
  EXPECT_EQ(StatusOf(*first).state(), proto::JOB_RUNNING);
  EXPECT_EQ(StatusOf(*first).pending_reason(), "");

  StatusOr<std::string> second = jobs_.LaunchJob(Spec("second", 1, 1, 1));
  StatusOr<std::string> third = jobs_.LaunchJob(Spec("third", 1, 1, 1));
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(StatusOf(*second).pending_reason(),
            "needs 1 free node: 1 registered, 1 busy running job " + *first +
                "; waiting for a job to end");
  EXPECT_EQ(StatusOf(*third).pending_reason(),
            "queued behind job " + *second +
                " (higher priority first, then first come, first served)");
}

// Ranks on several nodes connect over the address each node's agent is
// reached at (not the machine's hostname); a one-node job stays on
// loopback, the worker's default.
TEST_F(JobManagerTest, MultiNodeJobsGetEachNodesAddressForCollectives) {
  AddNode("alpha");
  AddNode("beta");
  ASSERT_THAT(jobs_.LaunchJob(Spec("two", 1, 2, 2)), IsOk());
  ASSERT_EQ(agents_.starts.size(), 2u);
  EXPECT_EQ(agents_.starts[0].start.env().at("DSTRAIN_COMM_HOST"), "alpha");
  EXPECT_EQ(agents_.starts[1].start.env().at("DSTRAIN_COMM_HOST"), "beta");
}

// A later job with a higher priority starts first when a node frees up.
TEST_F(JobManagerTest, HigherPriorityGoesFirstThenSubmissionOrder) {
  AddNode("alpha");
  StatusOr<std::string> running = jobs_.LaunchJob(Spec("running", 1, 1, 1));
  ASSERT_THAT(running, IsOk());
  proto::JobSpec low = Spec("low", 1, 1, 1);
  proto::JobSpec high = Spec("high", 1, 1, 1);
  high.set_priority(10);
  StatusOr<std::string> low_id = jobs_.LaunchJob(low);
  StatusOr<std::string> high_id = jobs_.LaunchJob(high);
  ASSERT_THAT(low_id, IsOk());
  ASSERT_THAT(high_id, IsOk());
  EXPECT_THAT(StatusOf(*low_id).pending_reason(),
              ::testing::HasSubstr("queued behind job " + *high_id));
  ASSERT_THAT(jobs_.CancelJob(*running, "make room"), IsOk());
  EXPECT_EQ(StatusOf(*high_id).state(), proto::JOB_RUNNING);
  EXPECT_EQ(StatusOf(*low_id).state(), proto::JOB_PENDING);
}

// Who may call what (coordinator/access.h): each refusal with its code.
TEST_F(JobManagerTest, CredentialsAreCheckedByRoleAndJob) {
  const Credentials creds{"operator-secret", "node-secret"};
  auto check = [&](std::string_view token, const char* method, Role role,
                   const std::string& job) {
    return Authorize(creds, jobs_, token, method, role, job);
  };
  AddNode("alpha");
  AddNode("beta");
  StatusOr<std::string> a = jobs_.LaunchJob(Spec("a", 1, 1, 1));
  StatusOr<std::string> b = jobs_.LaunchJob(Spec("b", 1, 1, 1));
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_EQ(agents_.starts.size(), 2u);
  const std::string a_token = agents_.starts[0].start.job_token();
  const std::string b_token = agents_.starts[1].start.job_token();
  ASSERT_EQ(a_token.rfind(*a + ".", 0), 0u);
  ASSERT_NE(a_token, b_token);

  EXPECT_THAT(check("operator-secret", "CancelJob", Role::kOperator, ""),
              IsOk());
  EXPECT_THAT(check("node-secret", "Heartbeat", Role::kNode, ""), IsOk());
  EXPECT_THAT(check(a_token, "KvGet", Role::kJob, *a), IsOk());
  // No token and a wrong one: unknown.
  EXPECT_THAT(check("", "LaunchJob", Role::kOperator, ""),
              StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(check("guess", "LaunchJob", Role::kOperator, ""),
              StatusIs(StatusCode::kUnauthenticated,
                       ::testing::HasSubstr("unknown credential")));
  EXPECT_THAT(check(*a + ".forged", "KvGet", Role::kJob, *a),
              StatusIs(StatusCode::kUnauthenticated));
  // Known, but not allowed.
  EXPECT_THAT(check("node-secret", "CancelJob", Role::kOperator, ""),
              StatusIs(StatusCode::kPermissionDenied,
                       "a node credential may not call CancelJob"));
  EXPECT_THAT(check("node-secret", "KvGet", Role::kJob, *a),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(check(a_token, "LaunchJob", Role::kOperator, ""),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(check(a_token, "KvSet", Role::kJob, *b),
              StatusIs(StatusCode::kPermissionDenied,
                       ::testing::HasSubstr("another job's rendezvous")));
  // The attempt ended: its credential expired with it.
  ASSERT_THAT(jobs_.CancelJob(*a, "done"), IsOk());
  EXPECT_THAT(
      check(a_token, "KvGet", Role::kJob, *a),
      StatusIs(StatusCode::kPermissionDenied, ::testing::HasSubstr("expired")));
}

// The viewer credential reads and does nothing else; operators read too;
// without a viewer token configured, an empty token is still nobody.
TEST_F(JobManagerTest, AViewerCredentialOnlyReads) {
  const Credentials creds{"operator-secret", "node-secret", "viewer-secret"};
  auto check = [&](std::string_view token, const char* method, Role role) {
    return Authorize(creds, jobs_, token, method, role, "");
  };
  EXPECT_THAT(check("viewer-secret", "ListJobs", Role::kViewer), IsOk());
  EXPECT_THAT(check("operator-secret", "GET /metrics", Role::kViewer), IsOk());
  EXPECT_THAT(check("viewer-secret", "CancelJob", Role::kOperator),
              StatusIs(StatusCode::kPermissionDenied,
                       "a viewer credential may not call CancelJob"));
  EXPECT_THAT(check("viewer-secret", "Heartbeat", Role::kNode),
              StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(check("node-secret", "ListJobs", Role::kViewer),
              StatusIs(StatusCode::kPermissionDenied));
  const Credentials no_viewer{"operator-secret", "node-secret", ""};
  EXPECT_THAT(Authorize(no_viewer, jobs_, "", "ListJobs", Role::kViewer, ""),
              StatusIs(StatusCode::kUnauthenticated));
}

// A cuda job goes only where there is a GPU per rank, and says so while no
// such node is free.
TEST_F(JobManagerTest, ACudaJobWaitsForANodeWithEnoughGpus) {
  AddNode("cpu-only");
  proto::JobSpec spec = Spec("gpu", 2, 1, 1);
  spec.set_device("cuda");
  StatusOr<std::string> id = jobs_.LaunchJob(spec);
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(StatusOf(*id).state(), proto::JOB_PENDING);
  EXPECT_THAT(StatusOf(*id).pending_reason(),
              ::testing::HasSubstr("1 free node has fewer than the 2 GPUs a "
                                   "cuda job with procs_per_node 2 needs"));
  proto::NodeInventory inv;
  inv.set_hostname("gpu-box");
  inv.add_gpus()->set_index(0);
  inv.add_gpus()->set_index(1);
  ASSERT_THAT(nodes_.Register(inv, "gpu-box:9000"), IsOk());
  jobs_.Schedule();
  const proto::JobStatus st = StatusOf(*id);
  EXPECT_EQ(st.state(), proto::JOB_RUNNING);
  ASSERT_GT(st.ranks_size(), 0);
  EXPECT_EQ(st.ranks(0).host(), "gpu-box");
}

TEST_F(JobManagerTest, WaitsForNodesThenAssignsRanksInRegistrationOrder) {
  StatusOr<std::string> id = jobs_.LaunchJob(Spec("charlm", 2, 2, 2));
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(id->rfind("j-", 0), 0u);
  EXPECT_EQ(StatusOf(*id).state(), proto::JOB_PENDING);
  EXPECT_TRUE(kv_.HasJob(*id));

  std::string n1 = AddNode("alpha");
  EXPECT_EQ(StatusOf(*id).state(), proto::JOB_PENDING);  // needs 2 nodes
  EXPECT_TRUE(agents_.starts.empty());
  std::string n2 = AddNode("beta");

  proto::JobStatus st = StatusOf(*id);
  EXPECT_EQ(st.state(), proto::JOB_RUNNING);
  EXPECT_EQ(st.world_size(), 4);
  EXPECT_EQ(st.attempt(), 0);
  ASSERT_EQ(st.ranks_size(), 4);
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(st.ranks(r).rank(), r);
    EXPECT_EQ(st.ranks(r).local_rank(), r % 2);
    EXPECT_EQ(st.ranks(r).node_rank(), r / 2);
    EXPECT_EQ(st.ranks(r).node_id(), r < 2 ? n1 : n2);
  }

  ASSERT_EQ(agents_.starts.size(), 2u);
  const auto& first = agents_.starts[0];
  EXPECT_EQ(first.address, "alpha:9000");
  EXPECT_EQ(first.start.job_id(), *id);
  EXPECT_EQ(first.start.attempt(), 0);
  EXPECT_EQ(first.start.world_size(), 4);
  EXPECT_EQ(first.start.coordinator_address(), "127.0.0.1:7000");
  EXPECT_EQ(first.start.spec().name(), "charlm");
  ASSERT_EQ(first.start.ranks_size(), 2);
  EXPECT_EQ(first.start.ranks(0).rank(), 0);
  EXPECT_EQ(first.start.ranks(1).rank(), 1);
  // The node count and this node's rank travel in the request; the agent
  // turns them into the workers' environment (common/contract/worker_env.h).
  EXPECT_EQ(first.start.num_nodes(), 2);
  EXPECT_EQ(first.start.ranks(0).node_rank(), 0);
  EXPECT_EQ(first.start.ranks(1).node_rank(), 0);
  const auto& second = agents_.starts[1];
  EXPECT_EQ(second.address, "beta:9000");
  ASSERT_EQ(second.start.ranks_size(), 2);
  EXPECT_EQ(second.start.ranks(0).rank(), 2);
  EXPECT_EQ(second.start.ranks(0).local_rank(), 0);
  EXPECT_EQ(second.start.ranks(1).rank(), 3);
  EXPECT_EQ(second.start.ranks(0).node_rank(), 1);
}

TEST_F(JobManagerTest, TakesUpToNodesMax) {
  AddNode("a");
  AddNode("b");
  AddNode("c");
  StatusOr<std::string> id = jobs_.LaunchJob(Spec("j", 1, 1, 2));
  ASSERT_THAT(id, IsOk());
  proto::JobStatus st = StatusOf(*id);
  EXPECT_EQ(st.state(), proto::JOB_RUNNING);
  EXPECT_EQ(st.world_size(), 2);
  ASSERT_EQ(agents_.starts.size(), 2u);
  EXPECT_EQ(agents_.starts[0].address, "a:9000");
  EXPECT_EQ(agents_.starts[1].address, "b:9000");
}

TEST_F(JobManagerTest, NonZeroExitFailsTheJobAndStopsEveryAgent) {
  AddNode("vm");
  AddNode("vm2");
  std::string id = *jobs_.LaunchJob(Spec("j", 2, 2, 2));
  ASSERT_THAT(kv_.Set(id, "a0/x", "1"), IsOk());
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(0, 0)), IsOk());
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(3, 7)), IsOk());
  proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(), "rank 3 on vm2 exited with code 7");
  EXPECT_EQ(agents_.StopAddresses(),
            (std::vector<std::string>{"vm2:9000", "vm:9000"}));
  EXPECT_EQ(agents_.stops[0].stop.job_id(), id);
  // A failed job's workers are killed at once: their collectives cannot
  // complete.
  EXPECT_DOUBLE_EQ(agents_.stops[0].stop.grace_s(), 0);
  EXPECT_EQ(agents_.stops[0].stop.reason(), st.reason());
  // The rendezvous namespace went with the job.
  EXPECT_FALSE(kv_.HasJob(id));
  // Later exits (the stopped workers) are recorded but change nothing.
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(1, 0, SIGTERM)), IsOk());
  st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(), "rank 3 on vm2 exited with code 7");
  EXPECT_EQ(st.exits_size(), 3);
  EXPECT_EQ(agents_.stops.size(), 2u);
}

TEST_F(JobManagerTest, KilledRankIsNamedWithItsSignal) {
  std::string node = AddNode("vm");
  std::string id = *jobs_.LaunchJob(Spec("j", 2, 1, 1));
  ASSERT_THAT(jobs_.ReportWorkerExit(node, id, 0, Exit(1, 0, SIGKILL)), IsOk());
  proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(), "rank 1 on vm was killed by SIGKILL");
  EXPECT_EQ(agents_.StopAddresses(), std::vector<std::string>{"vm:9000"});
}

TEST_F(JobManagerTest, AllZeroExitsSucceed) {
  AddNode("vm");
  std::string id = *jobs_.LaunchJob(Spec("j", 3, 1, 1));
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
    ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(r, 0)), IsOk());
  }
  proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(st.reason(), "");
  EXPECT_TRUE(agents_.stops.empty());
  EXPECT_FALSE(kv_.HasJob(id));
}

TEST_F(JobManagerTest, ExitReportsAreChecked) {
  std::string node = AddNode("vm");
  std::string other = AddNode("vm2");
  std::string id = *jobs_.LaunchJob(Spec("j", 1, 1, 1));
  EXPECT_EQ(jobs_.ReportWorkerExit("", "j-nope", 0, Exit(0, 0)).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(jobs_.ReportWorkerExit("", id, 0, Exit(5, 0)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs_.ReportWorkerExit(other, id, 0, Exit(0, 1)).code(),
            StatusCode::kInvalidArgument);
  // Another attempt's report is ignored.
  EXPECT_THAT(jobs_.ReportWorkerExit(node, id, 7, Exit(0, 1)), IsOk());
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
}

TEST_F(JobManagerTest, CancelStopsRunningJobsAndEndsPendingOnes) {
  AddNode("vm");
  std::string running = *jobs_.LaunchJob(Spec("a", 1, 1, 1));
  std::string pending = *jobs_.LaunchJob(Spec("b", 1, 1, 1));
  EXPECT_EQ(StatusOf(pending).state(), proto::JOB_PENDING);  // node busy

  ASSERT_THAT(jobs_.CancelJob(pending, "user pressed Ctrl-C"), IsOk());
  EXPECT_EQ(StatusOf(pending).state(), proto::JOB_CANCELLED);
  EXPECT_EQ(StatusOf(pending).reason(), "user pressed Ctrl-C");
  EXPECT_TRUE(agents_.stops.empty());
  EXPECT_FALSE(kv_.HasJob(pending));

  ASSERT_THAT(jobs_.CancelJob(running, ""), IsOk());
  EXPECT_EQ(StatusOf(running).state(), proto::JOB_CANCELLED);
  EXPECT_EQ(agents_.StopAddresses(), std::vector<std::string>{"vm:9000"});
  // Cancelling again, or an ended job, changes nothing.
  ASSERT_THAT(jobs_.CancelJob(running, "again"), IsOk());
  EXPECT_EQ(StatusOf(running).reason(), "cancelled");
  EXPECT_EQ(agents_.stops.size(), 1u);
  EXPECT_EQ(jobs_.CancelJob("j-nope", "").code(), StatusCode::kNotFound);
}

TEST_F(JobManagerTest, NextPendingJobStartsWhenNodesAreFreed) {
  AddNode("vm");
  std::string a = *jobs_.LaunchJob(Spec("a", 1, 1, 1));
  std::string b = *jobs_.LaunchJob(Spec("b", 1, 1, 1));
  EXPECT_EQ(StatusOf(b).state(), proto::JOB_PENDING);
  ASSERT_THAT(jobs_.ReportWorkerExit("", a, 0, Exit(0, 0)), IsOk());
  EXPECT_EQ(StatusOf(a).state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(StatusOf(b).state(), proto::JOB_RUNNING);
  ASSERT_EQ(agents_.starts.size(), 2u);
  EXPECT_EQ(agents_.starts[1].start.job_id(), b);
}

TEST_F(JobManagerTest, LostNodeFailsItsJobAndStopsTheOthers) {
  std::string n1 = AddNode("vm");
  std::string n2 = AddNode("vm2");
  std::string id = *jobs_.LaunchJob(Spec("j", 1, 2, 2));
  ASSERT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);

  clock_.Advance(seconds(4));
  ASSERT_TRUE(nodes_.Heartbeat(n1, {0}));  // vm2 stays silent
  clock_.Advance(seconds(3));
  std::vector<std::string> lost = nodes_.CheckLiveness();
  ASSERT_EQ(lost, std::vector<std::string>{n2});
  jobs_.OnNodesLost(lost);

  proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(), "node vm2 stopped heartbeating");
  // The lost node is unreachable; only the live one is asked to stop.
  EXPECT_EQ(agents_.StopAddresses(), std::vector<std::string>{"vm:9000"});
}

TEST_F(JobManagerTest, AgentThatCannotStartFailsTheJob) {
  AddNode("vm");
  AddNode("vm2");
  agents_.fail_start.insert("vm2:9000");
  std::string id = *jobs_.LaunchJob(Spec("j", 1, 2, 2));
  proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(), "could not start workers on vm2: connection refused");
  EXPECT_EQ(agents_.StopAddresses(),
            (std::vector<std::string>{"vm2:9000", "vm:9000"}));
}

TEST_F(JobManagerTest, MetricsLatestHistoryAndResults) {
  AddNode("vm");
  std::string id = *jobs_.LaunchJob(Spec("j", 2, 1, 1));
  proto::ReportMetricsRequest req;
  for (int step = 1; step <= 8; ++step) {
    *req.add_metrics() = Step(id, 0, step, 10.0 - step);
    *req.add_metrics() = Step(id, 1, step, 20.0 - step);
  }
  *req.add_metrics() = Step(id, 0, 3, 99.0);  // a late repeat
  ASSERT_THAT(jobs_.ReportMetrics(req), IsOk());

  proto::JobStatus st = StatusOf(id, 0);
  ASSERT_EQ(st.latest_size(), 2);
  EXPECT_EQ(st.latest(0).rank(), 0);
  EXPECT_EQ(st.latest(0).step(), 3);  // latest is the last report
  EXPECT_EQ(st.latest(1).step(), 8);
  EXPECT_DOUBLE_EQ(st.latest(1).loss(), 12.0);
  // History keeps the newest 5 (max_history) rank-0 steps, increasing.
  ASSERT_EQ(st.history_size(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(st.history(i).rank(), 0);
    EXPECT_EQ(st.history(i).step(), 4 + i);
    EXPECT_DOUBLE_EQ(st.history(i).loss(), 10.0 - (4 + i));
  }
  st = StatusOf(id, 6);
  ASSERT_EQ(st.history_size(), 2);
  EXPECT_EQ(st.history(0).step(), 7);
  EXPECT_EQ(StatusOf(id, 8).history_size(), 0);

  proto::ReportMetricsRequest results;
  results.set_job_id(id);
  proto::RankResult r;
  r.set_rank(1);
  r.set_steps(8);
  r.set_param_digest("00ff");
  *results.add_results() = r;
  ASSERT_THAT(jobs_.ReportMetrics(results), IsOk());
  st = StatusOf(id);
  ASSERT_EQ(st.results_size(), 1);
  EXPECT_EQ(st.results(0).param_digest(), "00ff");

  proto::ReportMetricsRequest stale;
  proto::StepMetrics m = Step(id, 0, 100, 1.0);
  m.set_attempt(3);
  *stale.add_metrics() = m;
  ASSERT_THAT(jobs_.ReportMetrics(stale), IsOk());
  EXPECT_EQ(StatusOf(id).latest(0).step(), 3);

  proto::ReportMetricsRequest bad;
  *bad.add_metrics() = Step(id, 9, 1, 1.0);
  EXPECT_EQ(jobs_.ReportMetrics(bad).code(), StatusCode::kInvalidArgument);
  proto::ReportMetricsRequest orphan;
  *orphan.add_results() = r;
  EXPECT_EQ(jobs_.ReportMetrics(orphan).code(), StatusCode::kInvalidArgument);
}

TEST_F(JobManagerTest, ElapsedFollowsTheClockAndStopsAtTheEnd) {
  AddNode("vm");
  std::string id = *jobs_.LaunchJob(Spec("j", 1, 1, 1));
  clock_.Advance(seconds(5));
  EXPECT_DOUBLE_EQ(StatusOf(id).elapsed_s(), 5.0);
  ASSERT_THAT(jobs_.ReportWorkerExit("", id, 0, Exit(0, 0)), IsOk());
  clock_.Advance(seconds(5));
  EXPECT_DOUBLE_EQ(StatusOf(id).elapsed_s(), 5.0);
}

TEST(JobManagerStartingTest, ExitWhileStartingAndLateStartAnswer) {
  FakeClock clock;
  NodeManager nodes(&clock, seconds(2), 3);
  RendezvousStore kv;
  FakeAgentClient agents;
  ManualExecutor executor;
  JobManager jobs(&nodes, &kv, &agents, &executor, &clock);
  proto::NodeInventory inv;
  inv.set_hostname("vm");
  ASSERT_THAT(nodes.Register(inv, "vm:1"), IsOk());
  std::string id = *jobs.LaunchJob(Spec("j", 2, 1, 1));
  EXPECT_EQ(jobs.GetJobStatus(id, 0)->state(), proto::JOB_STARTING);
  EXPECT_TRUE(agents.starts.empty());  // not run yet
  // A worker dies before the agent's StartWorkers answer is processed.
  ASSERT_THAT(jobs.ReportWorkerExit("", id, 0, Exit(0, 0, SIGSEGV)), IsOk());
  EXPECT_EQ(jobs.GetJobStatus(id, 0)->state(), proto::JOB_FAILED);
  executor.RunAll();  // start, then stop, in order
  ASSERT_EQ(agents.starts.size(), 1u);
  ASSERT_EQ(agents.stops.size(), 1u);
  proto::JobStatus st = *jobs.GetJobStatus(id, 0);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);  // the late answer changes nothing
  EXPECT_EQ(st.reason(), "rank 0 on vm was killed by SIGSEGV");
}

// A described cluster: two leaves, hosts interleaved by name so the plan's
// order differs from registration and from name order.
std::string TwoLeafCluster() {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("jm_two_leaves_" + std::to_string(getpid()) + ".yaml"))
          .string();
  std::ofstream(path) << "name: two-leaves\n"
                         "fabric: {kind: fat-tree}\n"
                         "defaults: {devices: 2}\n"
                         "switches:\n"
                         "  - {name: \"leaf[0-1]\", level: 0}\n"
                         "  - {name: spine, level: 1}\n"
                         "hosts:\n"
                         "  - {name: \"hostA,hostC\", leaf: leaf0}\n"
                         "  - {name: \"hostB,hostD\", leaf: leaf1}\n"
                         "links:\n"
                         "  - {a: \"leaf[0-1]\", b: spine, count: 2}\n";
  return path;
}

proto::JobSpec Planned(const std::string& cluster, const std::string& algo,
                       int nodes) {
  proto::JobSpec spec = Spec("planned", 2, nodes, nodes);
  spec.mutable_topology()->set_cluster_path(cluster);
  spec.mutable_topology()->set_algorithm(algo);
  return spec;
}

TEST_F(JobManagerTest, PlanOrdersRanksByLeafAndHandsOutSubCommunicators) {
  const std::string cluster = TwoLeafCluster();
  StatusOr<std::string> id =
      jobs_.LaunchJob(Planned(cluster, "hierarchical", 4));
  ASSERT_THAT(id, IsOk()) << id.status().ToString();
  // Registration order interleaves the leaves.
  const std::string a = AddNode("hostA");
  const std::string b = AddNode("hostB");
  const std::string c = AddNode("hostC");
  const std::string d = AddNode("hostD");
  proto::JobStatus st = StatusOf(*id);
  ASSERT_EQ(st.state(), proto::JOB_RUNNING) << st.reason();
  EXPECT_EQ(st.placement(), "leaf-contiguous");
  ASSERT_EQ(st.ranks_size(), 8);
  const std::vector<std::string> hosts = {"hostA", "hostC", "hostB", "hostD"};
  const std::vector<std::string> ids = {a, c, b, d};
  for (int r = 0; r < 8; ++r) {
    EXPECT_EQ(st.ranks(r).host(), hosts[r / 2]) << r;
    EXPECT_EQ(st.ranks(r).node_id(), ids[r / 2]) << r;
    EXPECT_EQ(st.ranks(r).node_rank(), r / 2);
    EXPECT_EQ(st.ranks(r).local_rank(), r % 2);
  }
  ASSERT_EQ(st.communicators_size(), 2);
  EXPECT_EQ(st.communicators(0).name(), "intra_node");
  EXPECT_EQ(st.communicators(1).name(), "inter_node");
  EXPECT_EQ(st.grad_allreduce(), "hierarchical");
  // Every agent gets the whole layout and its own node rank.
  ASSERT_EQ(agents_.starts.size(), 4u);
  for (const auto& call : agents_.starts) {
    ASSERT_EQ(call.start.communicators_size(), 2);
    EXPECT_EQ(call.start.communicators(1).color_size(), 8);
    ASSERT_EQ(call.start.grad_routes_size(), 1);
    EXPECT_EQ(call.start.grad_routes(0).via(), "hierarchical");
    EXPECT_EQ(call.start.grad_routes(0).min_bytes(), 0);
    // Composed algorithms run through sub-communicators, not NCCL_ALGO.
    EXPECT_EQ(call.start.env().count("NCCL_ALGO"), 0u);
  }
  EXPECT_EQ(agents_.starts[0].address, "hostA:9000");
  EXPECT_EQ(agents_.starts[1].address, "hostC:9000");
  EXPECT_EQ(agents_.starts[1].start.ranks(0).rank(), 2);
  EXPECT_EQ(agents_.starts[2].address, "hostB:9000");
  // The fabric view: the nodes in plan order under their leaves.
  StatusOr<proto::JobFabric> fabric = jobs_.GetJobFabric(*id);
  ASSERT_THAT(fabric, IsOk());
  EXPECT_EQ(fabric->kind(), "fat-tree");
  EXPECT_EQ(fabric->placement(), "leaf-contiguous");
  ASSERT_EQ(fabric->nodes_size(), 4);
  for (int n = 0; n < 4; ++n) {
    EXPECT_EQ(fabric->nodes(n).hostname(), hosts[n]);
    ASSERT_EQ(fabric->nodes(n).leaves_size(), 1);
    EXPECT_EQ(fabric->nodes(n).leaves(0), n < 2 ? "leaf0" : "leaf1");
    EXPECT_FALSE(fabric->nodes(n).lost());
  }
  // A node lost is marked where it sits.
  jobs_.OnNodesLost({c});
  fabric = jobs_.GetJobFabric(*id);
  ASSERT_THAT(fabric, IsOk());
  EXPECT_TRUE(fabric->nodes(1).lost());
  EXPECT_FALSE(fabric->nodes(0).lost());
  std::filesystem::remove(cluster);
}

TEST_F(JobManagerTest, NodeMissingFromTheDescriptionFailsBeforeAnythingStarts) {
  const std::string cluster = TwoLeafCluster();
  StatusOr<std::string> id = jobs_.LaunchJob(Planned(cluster, "auto", 2));
  ASSERT_THAT(id, IsOk());
  AddNode("hostA");
  AddNode("hostZ");
  proto::JobStatus st = StatusOf(*id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason(),
            "topology plan: node `hostZ` is not in cluster "
            "`two-leaves` (" +
                cluster + ")");
  EXPECT_TRUE(agents_.starts.empty());
  std::filesystem::remove(cluster);
}

TEST_F(JobManagerTest, BadClusterDescriptionsAreRefusedAtLaunch) {
  StatusOr<std::string> missing =
      jobs_.LaunchJob(Planned("/nonexistent/c.yaml", "auto", 1));
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("/nonexistent/c.yaml"),
            std::string::npos)
      << missing.status().message();
  const std::string cluster = TwoLeafCluster();
  StatusOr<std::string> algo = jobs_.LaunchJob(Planned(cluster, "trees", 1));
  EXPECT_EQ(algo.status().message(),
            "job `planned`: topology.algorithm: unknown algorithm `trees` "
            "(expected auto, ring, tree, rhd, hierarchical or torus)");
  // A forced algorithm that cannot apply (torus on a fat-tree) fails the
  // job at start, naming why.
  StatusOr<std::string> torus = jobs_.LaunchJob(Planned(cluster, "torus", 2));
  ASSERT_THAT(torus, IsOk());
  AddNode("hostA");
  AddNode("hostB");
  proto::JobStatus st = StatusOf(*torus);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_EQ(st.reason().rfind("topology plan: cannot plan on cluster "
                              "`two-leaves`: ",
                              0),
            0u)
      << st.reason();
  std::filesystem::remove(cluster);
}

// A job whose plan fails while the scheduler hands out freed nodes ends
// inside that pass; the next pending job must still get each node once.
TEST_F(JobManagerTest, PlanFailureDuringAPassDoesNotStartTheNextJobTwice) {
  const std::string cluster = TwoLeafCluster();
  // hostZ (not in the description) first: the planned job takes it.
  const std::string z = AddNode("hostZ");
  const std::string a = AddNode("hostA");
  StatusOr<std::string> first = jobs_.LaunchJob(Spec("first", 1, 2, 2));
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(StatusOf(*first).state(), proto::JOB_RUNNING);
  // Both wait for the nodes `first` holds.
  proto::JobSpec planned = Planned(cluster, "auto", 1);
  planned.set_procs_per_node(1);
  StatusOr<std::string> doomed = jobs_.LaunchJob(planned);  // gets hostZ
  StatusOr<std::string> next = jobs_.LaunchJob(Spec("next", 1, 1, 1));
  ASSERT_THAT(doomed, IsOk());
  ASSERT_THAT(next, IsOk());
  agents_.starts.clear();
  for (int r = 0; r < 2; ++r)
    ASSERT_THAT(jobs_.ReportWorkerExit("", *first, 0, Exit(r, 0)), IsOk());
  EXPECT_EQ(StatusOf(*first).state(), proto::JOB_SUCCEEDED);
  const proto::JobStatus d = StatusOf(*doomed);
  EXPECT_EQ(d.state(), proto::JOB_FAILED);
  EXPECT_NE(d.reason().find("node `hostZ` is not in cluster"),
            std::string::npos)
      << d.reason();
  const proto::JobStatus n = StatusOf(*next);
  EXPECT_EQ(n.state(), proto::JOB_RUNNING);
  ASSERT_EQ(n.ranks_size(), 1);
  // One StartWorkers for `next`, on one node.
  ASSERT_EQ(agents_.starts.size(), 1u);
  EXPECT_EQ(agents_.starts[0].start.job_id(), *next);
  (void)a;
  (void)z;
  std::filesystem::remove(cluster);
}

}  // namespace
}  // namespace dstrain::coordinator
