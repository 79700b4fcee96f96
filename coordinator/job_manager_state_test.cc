// JobManager and NodeManager over a SqliteStateStore, "restarted" by
// destroying them and the store and building new ones over the same
// directory: a job that ended comes back with its whole record, one that
// was running is re-adopted when its agent registers again (or fails when
// the agent or its ranks are gone), one that was pending is queued again,
// and new ids do not repeat old ones. And over
// a store that refuses writes: nothing is acknowledged that was not
// recorded. Fake agents, fake clock, inline executor.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>

#include "common/testing/status_matchers.h"
#include "coordinator/job_manager.h"
#include "coordinator/state/in_memory_state_store.h"
#include "coordinator/state/sqlite_state_store.h"
#include "coordinator/testing/fake_agents.h"
#include "coordinator/testing/register_node.h"

namespace dstrain::coordinator {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using std::chrono::seconds;
using ::testing::HasSubstr;

proto::JobSpec Spec(const std::string& name, int ppn, int max_restarts = 0) {
  proto::JobSpec spec;
  spec.set_name(name);
  spec.set_procs_per_node(ppn);
  spec.set_nodes_min(1);
  spec.set_nodes_max(1);
  spec.set_max_restarts(max_restarts);
  spec.set_yaml("name: " + name + "\n");
  return spec;
}

// Rank 0's and rank 1's metrics of `steps`, in one call as an agent sends.
proto::ReportMetricsRequest Metrics(const std::string& job, int attempt,
                                    int first, int last) {
  proto::ReportMetricsRequest r;
  r.set_job_id(job);
  r.set_attempt(attempt);
  for (int step = first; step <= last; ++step) {
    for (int rank = 0; rank < 2; ++rank) {
      proto::StepMetrics* m = r.add_metrics();
      m->set_job_id(job);
      m->set_rank(rank);
      m->set_attempt(attempt);
      m->set_step(step);
      m->set_total_steps(6);
      m->set_loss(10.0 / step + rank);
    }
  }
  return r;
}

proto::ReportMetricsRequest Results(const std::string& job, int attempt,
                                    int ranks) {
  proto::ReportMetricsRequest r;
  r.set_job_id(job);
  r.set_attempt(attempt);
  for (int rank = 0; rank < ranks; ++rank) {
    proto::RankResult* res = r.add_results();
    res->set_rank(rank);
    res->set_steps(6);
    res->set_final_loss(1.5);
    res->set_param_digest("same");
  }
  return r;
}

// A coordinator's managers over one store; destroying it is the crash.
struct Coordinator {
  explicit Coordinator(StateStore* store, FakeClock* clock)
      : nodes(clock, seconds(2), 3, store),
        jobs(&nodes, &kv, &agents, &executor, clock,
             JobManagerOptions{"127.0.0.1:7000", 2.5, /*max_history=*/4,
                               std::nullopt, store}) {}

  // What a coordinator does at start (coordinator_server.cc).
  Status Restore(StateStore* store) {
    DSTRAIN_ASSIGN_OR_RETURN(StoredState state, store->Load());
    DSTRAIN_RETURN_IF_ERROR(nodes.Restore(state.nodes));
    return jobs.Restore(std::move(state.jobs));
  }
  std::string AddNode(const std::string& host) {
    return RegisterNode(nodes, jobs, host);
  }
  proto::JobStatus StatusOf(const std::string& job) {
    StatusOr<proto::JobStatus> s = jobs.GetJobStatus(job, 0);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? *s : proto::JobStatus();
  }

  NodeManager nodes;
  RendezvousStore kv;
  FakeAgentClient agents;
  InlineExecutor executor;
  JobManager jobs;
};

// The record a restart keeps: everything but the per-rank latest metrics
// (state_store.h: not kept).
// What the record keeps across a coordinator restart: not the latest
// per-rank metrics, nor the counters of this coordinator process (the
// /metrics step-time totals and the attempt's start-up time).
proto::JobStatus Kept(proto::JobStatus s) {
  s.clear_latest();
  s.clear_step_time_sum_s();
  s.clear_steps_observed();
  s.clear_startup_s();
  return s;
}

void ExpectSameRecord(const proto::JobStatus& before,
                      const proto::JobStatus& after) {
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(Kept(before), Kept(after))) << diff;
}

class JobManagerStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_job_state_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    Start();
  }
  void TearDown() override {
    coordinator_.reset();
    store_.reset();
    fs::remove_all(root_);
  }
  // A coordinator over root_/state, restoring what is there.
  void Start() {
    StatusOr<std::unique_ptr<SqliteStateStore>> s =
        SqliteStateStore::Open((root_ / "state").string());
    ASSERT_THAT(s, IsOk());
    store_ = std::move(s).value();
    coordinator_ = std::make_unique<Coordinator>(store_.get(), &clock_);
    ASSERT_THAT(coordinator_->Restore(store_.get()), IsOk());
  }
  // The crash: every object goes, nothing is ended or flushed first.
  void Restart() {
    coordinator_.reset();
    store_.reset();
    clock_.Advance(seconds(30));
    Start();
  }
  Coordinator& c() { return *coordinator_; }
  // What an agent on "alpha" does after a restart: registers again under
  // `node` with the work it still has; returns the jobs it is to stop.
  std::vector<std::string> ComeBack(
      const std::string& node, const std::vector<proto::RunningJob>& work) {
    proto::NodeInventory alpha;
    alpha.set_hostname("alpha");
    StatusOr<std::string> id = c().nodes.Register(alpha, "alpha:9000", node);
    EXPECT_THAT(id, IsOk());
    EXPECT_EQ(id.ok() ? *id : "", node);
    return c().jobs.AdoptNode(node, work);
  }
  static proto::RunningJob Running(const std::string& job,
                                   const std::vector<int>& ranks) {
    proto::RunningJob r;
    r.set_job_id(job);
    for (int rank : ranks) r.add_ranks(rank);
    return r;
  }

  fs::path root_;
  FakeClock clock_;
  std::unique_ptr<SqliteStateStore> store_;
  std::unique_ptr<Coordinator> coordinator_;
};

TEST_F(JobManagerStateTest, AJobThatSucceededComesBackWithItsWholeRecord) {
  const std::string node = c().AddNode("alpha");
  StatusOr<std::string> id = c().jobs.LaunchJob(Spec("done", 2));
  ASSERT_THAT(id, IsOk());
  ASSERT_EQ(c().StatusOf(*id).state(), proto::JOB_RUNNING);
  clock_.Advance(seconds(1));
  ASSERT_THAT(c().jobs.ReportMetrics(Metrics(*id, 0, 1, 3)), IsOk());
  ASSERT_THAT(c().jobs.ReportMetrics(Metrics(*id, 0, 4, 6)), IsOk());
  ASSERT_THAT(c().jobs.ReportMetrics(Results(*id, 0, 2)), IsOk());
  clock_.Advance(seconds(1));
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(1, 0)), IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(0, 0)), IsOk());
  const proto::JobStatus before = c().StatusOf(*id);
  ASSERT_EQ(before.state(), proto::JOB_SUCCEEDED);
  ASSERT_EQ(before.history_size(), 4);  // max_history: steps 3..6
  EXPECT_EQ(before.history(0).step(), 3);
  ASSERT_EQ(before.events_size(), 4);
  EXPECT_EQ(before.events(0).cause(), "submitted");
  EXPECT_EQ(before.events(1).cause(), "placed on 1 node (alpha)");
  EXPECT_EQ(before.events(2).cause(), "workers started on 1 node");
  EXPECT_EQ(before.events(3).to_state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(before.events(3).cause(), "every rank exited with code 0");
  EXPECT_EQ(before.events(3).time_unix_us() - before.events(0).time_unix_us(),
            2000000);

  Restart();

  const proto::JobStatus after = c().StatusOf(*id);
  ExpectSameRecord(before, after);
  EXPECT_EQ(after.state(), proto::JOB_SUCCEEDED);
  EXPECT_EQ(after.results_size(), 2);
  EXPECT_EQ(after.exits_size(), 2);
  EXPECT_DOUBLE_EQ(after.elapsed_s(), 2.0);  // not the 30 s down time
  // An ended job is not touched by the restart.
  EXPECT_EQ(after.events_size(), 4);

  // The node is lost (its agent registers again), and neither the new
  // node nor the new job takes an old id.
  EXPECT_TRUE(c().nodes.LiveNodes().empty());
  EXPECT_EQ(c().AddNode("alpha"), "n-2");
  StatusOr<std::string> next = c().jobs.LaunchJob(Spec("next", 1));
  ASSERT_THAT(next, IsOk());
  EXPECT_NE(*next, *id);
  proto::JobStatus running = c().StatusOf(*next);
  EXPECT_EQ(running.state(), proto::JOB_RUNNING);
  ASSERT_EQ(running.ranks_size(), 1);
  EXPECT_EQ(running.ranks(0).node_id(), "n-2");
}

TEST_F(JobManagerStateTest, ARunningJobIsReadoptedAndAPendingOneQueued) {
  const std::string node = c().AddNode("alpha");
  StatusOr<std::string> running = c().jobs.LaunchJob(Spec("running", 2));
  StatusOr<std::string> pending = c().jobs.LaunchJob(Spec("pending", 1));
  ASSERT_THAT(running, IsOk());
  ASSERT_THAT(pending, IsOk());
  ASSERT_THAT(c().jobs.ReportMetrics(Metrics(*running, 0, 1, 2)), IsOk());
  ASSERT_EQ(c().StatusOf(*running).state(), proto::JOB_RUNNING);
  ASSERT_EQ(c().StatusOf(*pending).state(), proto::JOB_PENDING);
  ASSERT_EQ(c().agents.starts.size(), 1u);
  const std::string credential = c().agents.starts[0].start.job_token();

  Restart();

  // Still running, waiting for its agent; its workers keep their
  // credential and their rendezvous namespace.
  proto::JobStatus waiting = c().StatusOf(*running);
  EXPECT_EQ(waiting.state(), proto::JOB_RUNNING);
  EXPECT_EQ(waiting.reason(), "");
  EXPECT_EQ(waiting.attempt(), 0);
  ASSERT_EQ(waiting.history_size(), 2);
  EXPECT_EQ(waiting.ranks_size(), 2);
  ASSERT_EQ(waiting.events_size(), 4);
  EXPECT_EQ(waiting.events(3).from_state(), proto::JOB_RUNNING);
  EXPECT_EQ(waiting.events(3).to_state(), proto::JOB_RUNNING);
  EXPECT_EQ(waiting.events(3).cause(),
            "the coordinator restarted; waiting for the 1 node of attempt 0 "
            "to register their workers again");
  EXPECT_EQ(waiting.events(3).time_unix_us() - waiting.events(2).time_unix_us(),
            30000000);
  EXPECT_TRUE(c().kv.HasJob(*running));
  JobManager::CredentialCheck check = c().jobs.CheckJobCredential(credential);
  EXPECT_TRUE(check.known);
  EXPECT_TRUE(check.active);
  EXPECT_EQ(check.job_id, *running);
  EXPECT_FALSE(c().jobs.CheckJobCredential(*running + ".forged").known);
  EXPECT_TRUE(c().agents.stops.empty());

  proto::JobStatus queued = c().StatusOf(*pending);
  EXPECT_EQ(queued.state(), proto::JOB_PENDING);
  ASSERT_EQ(queued.events_size(), 2);
  EXPECT_EQ(queued.events(1).cause(),
            "the coordinator restarted; queued again");
  EXPECT_TRUE(c().kv.HasJob(*pending));

  // The agent registers again with the workers it still runs: same node
  // id, nothing started anew, nothing stopped.
  EXPECT_TRUE(ComeBack(node, {Running(*running, {0, 1})}).empty());
  c().jobs.Schedule();
  proto::JobStatus adopted = c().StatusOf(*running);
  EXPECT_EQ(adopted.state(), proto::JOB_RUNNING);
  ASSERT_EQ(adopted.events_size(), 5);
  EXPECT_EQ(adopted.events(4).cause(),
            "re-adopted the workers on 1 node after the coordinator restarted");
  EXPECT_TRUE(c().agents.starts.empty());
  EXPECT_TRUE(c().agents.stops.empty());
  // The node is busy with it, so the pending job still waits.
  EXPECT_EQ(c().StatusOf(*pending).state(), proto::JOB_PENDING);

  // It trains on and finishes; its history continues where it was.
  ASSERT_THAT(c().jobs.ReportMetrics(Metrics(*running, 0, 3, 4)), IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *running, 0, Exit(0, 0)), IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *running, 0, Exit(1, 0)), IsOk());
  proto::JobStatus done = c().StatusOf(*running);
  EXPECT_EQ(done.state(), proto::JOB_SUCCEEDED);
  ASSERT_EQ(done.history_size(), 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(done.history(i).step(), i + 1);
  EXPECT_FALSE(c().jobs.CheckJobCredential(credential).active);
  // The pending job takes the node now.
  EXPECT_EQ(c().StatusOf(*pending).state(), proto::JOB_RUNNING);

  // Recorded, not just decided: a second restart finds the same.
  const proto::JobStatus done_before = c().StatusOf(*running);
  Restart();
  ExpectSameRecord(done_before, c().StatusOf(*running));
}

TEST_F(JobManagerStateTest, ANodeThatDoesNotComeBackFailsItsJob) {
  c().AddNode("alpha");
  StatusOr<std::string> id = c().jobs.LaunchJob(Spec("orphan", 2));
  ASSERT_THAT(id, IsOk());

  Restart();

  EXPECT_TRUE(c().nodes.CheckLiveness().empty());  // within the grace
  clock_.Advance(seconds(31));
  const std::vector<std::string> lost = c().nodes.CheckLiveness();
  ASSERT_EQ(lost, std::vector<std::string>{"n-1"});
  c().jobs.OnNodesLost(lost);
  proto::JobStatus failed = c().StatusOf(*id);
  EXPECT_EQ(failed.state(), proto::JOB_FAILED);
  EXPECT_EQ(failed.reason(),
            "node alpha did not register again after the coordinator "
            "restarted");
  EXPECT_FALSE(c().kv.HasJob(*id));
}

TEST_F(JobManagerStateTest, ARankThatVanishedWhileTheCoordinatorWasDownFails) {
  const std::string node = c().AddNode("alpha");
  StatusOr<std::string> id = c().jobs.LaunchJob(Spec("vanished", 2));
  ASSERT_THAT(id, IsOk());

  Restart();

  // Rank 1 is gone, and no exit of it is recorded.
  EXPECT_TRUE(ComeBack(node, {Running(*id, {0})}).empty());
  proto::JobStatus failed = c().StatusOf(*id);
  EXPECT_EQ(failed.state(), proto::JOB_FAILED);
  EXPECT_EQ(failed.reason(),
            "rank 1 on alpha no longer ran when its agent registered again "
            "after the coordinator restarted");
  // The rank that still runs is stopped, as after any failure.
  EXPECT_EQ(c().agents.StopAddresses(), std::vector<std::string>{"alpha:9000"});
}

TEST_F(JobManagerStateTest, ExitsDeliveredBeforeTheAgentIsBackCount) {
  const std::string node = c().AddNode("alpha");
  StatusOr<std::string> id = c().jobs.LaunchJob(Spec("finishing", 2));
  ASSERT_THAT(id, IsOk());

  Restart();

  // Rank 1's exit reaches the new coordinator before its agent registers
  // again; rank 0 still runs.
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(1, 0)), IsOk());
  EXPECT_TRUE(ComeBack(node, {Running(*id, {0})}).empty());
  EXPECT_EQ(c().StatusOf(*id).state(), proto::JOB_RUNNING);
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(0, 0)), IsOk());
  EXPECT_EQ(c().StatusOf(*id).state(), proto::JOB_SUCCEEDED);
}

TEST_F(JobManagerStateTest, WorkOfJobsTheCoordinatorDoesNotRunIsStopped) {
  const std::string node = c().AddNode("alpha");
  StatusOr<std::string> id = c().jobs.LaunchJob(Spec("current", 2));
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(c().jobs.CancelJob(*id, "no longer wanted"), IsOk());

  Restart();

  // One job cancelled before the restart, one never heard of.
  EXPECT_EQ(ComeBack(node, {Running(*id, {0}), Running("j-nobody", {0})}),
            (std::vector<std::string>{*id, "j-nobody"}));
}

// Restarts of the job itself (max_restarts): attempt, reason and the
// history across attempts are kept as they were.
TEST_F(JobManagerStateTest, AJobsOwnRestartsAreKept) {
  const std::string node = c().AddNode("alpha");
  StatusOr<std::string> id =
      c().jobs.LaunchJob(Spec("restarts", 2, /*max_restarts=*/1));
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(c().jobs.ReportMetrics(Metrics(*id, 0, 1, 4)), IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(1, 0, SIGKILL)),
              IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(0, 0, SIGTERM)),
              IsOk());
  ASSERT_EQ(c().StatusOf(*id).attempt(), 1);
  // Attempt 1 resumes after step 2's checkpoint and finishes.
  ASSERT_THAT(c().jobs.ReportMetrics(Metrics(*id, 1, 3, 5)), IsOk());
  ASSERT_THAT(c().jobs.ReportMetrics(Results(*id, 1, 2)), IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 1, Exit(0, 0)), IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 1, Exit(1, 0)), IsOk());
  const proto::JobStatus before = c().StatusOf(*id);
  ASSERT_EQ(before.state(), proto::JOB_SUCCEEDED);
  ASSERT_EQ(before.history_size(), 4);  // 2 (attempt 0), 3..5 (attempt 1)
  EXPECT_EQ(before.history(0).attempt(), 0);
  EXPECT_EQ(before.history(1).attempt(), 1);

  Restart();

  const proto::JobStatus after = c().StatusOf(*id);
  ExpectSameRecord(before, after);
  EXPECT_EQ(after.attempt(), 1);
  EXPECT_EQ(after.restart_reason(), "rank 1 on alpha was killed by SIGKILL");
  bool restart_event = false;
  for (const proto::JobEvent& e : after.events()) {
    // "...; collateral: rank 0 stopped because of it"
    if (e.cause().rfind("restart 1 of 1: rank 1 on alpha was killed by SIGKILL",
                        0) == 0) {
      restart_event = e.from_state() == proto::JOB_RUNNING &&
                      e.to_state() == proto::JOB_PENDING && e.attempt() == 1;
    }
  }
  EXPECT_TRUE(restart_event);
}

// A running job with a cluster description reads it again at restore: its
// fabric view shows it, and its next attempt is planned with it; once the
// file is gone, that next attempt fails saying so instead of being placed
// without the plan.
TEST_F(JobManagerStateTest, ARunningPlannedJobReadsItsClusterAgain) {
  const std::string cluster = (root_ / "one-leaf.yaml").string();
  std::ofstream(cluster) << "name: one-leaf\n"
                            "fabric: {kind: fat-tree}\n"
                            "defaults: {devices: 2}\n"
                            "switches:\n"
                            "  - {name: leaf0, level: 0}\n"
                            "  - {name: spine0, level: 1}\n"
                            "hosts:\n"
                            "  - {name: alpha, leaf: leaf0}\n"
                            "links:\n"
                            "  - {a: leaf0, b: spine0}\n";
  const std::string node = c().AddNode("alpha");
  proto::JobSpec spec = Spec("planned", 2, /*max_restarts=*/1);
  spec.mutable_topology()->set_cluster_path(cluster);
  StatusOr<std::string> id = c().jobs.LaunchJob(spec);
  ASSERT_THAT(id, IsOk());
  ASSERT_EQ(c().StatusOf(*id).state(), proto::JOB_RUNNING);

  Restart();

  StatusOr<proto::JobFabric> fabric = c().jobs.GetJobFabric(*id);
  ASSERT_THAT(fabric, IsOk());
  EXPECT_EQ(fabric->kind(), "fat-tree");
  EXPECT_EQ(fabric->cluster(), "one-leaf");
  ASSERT_EQ(fabric->nodes_size(), 1);
  EXPECT_EQ(fabric->nodes(0).hostname(), "alpha");
  ASSERT_EQ(fabric->nodes(0).leaves_size(), 1);
  EXPECT_EQ(fabric->nodes(0).leaves(0), "leaf0");
  EXPECT_THAT(c().jobs.GetJobFabric("j-none"), StatusIs(StatusCode::kNotFound));

  fs::remove(cluster);
  Restart();
  EXPECT_TRUE(ComeBack(node, {Running(*id, {0, 1})}).empty());
  ASSERT_EQ(c().StatusOf(*id).state(), proto::JOB_RUNNING);
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(1, 0, SIGKILL)),
              IsOk());
  ASSERT_THAT(c().jobs.ReportWorkerExit(node, *id, 0, Exit(0, 0, SIGTERM)),
              IsOk());
  const proto::JobStatus st = c().StatusOf(*id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_THAT(st.reason(),
              HasSubstr("topology plan: the coordinator restarted and the "
                        "job's cluster description no longer loads"));
}

// Refuses writes on demand.
class RefusingStore : public InMemoryStateStore {
 public:
  Status CreateJob(const JobSubmission& job) override {
    return refuse ? Unavailable("state store: disk full")
                  : InMemoryStateStore::CreateJob(job);
  }
  Status RecordExit(const std::string& job_id, int attempt,
                    const proto::WorkerExit& exit) override {
    return refuse ? Unavailable("state store: disk full")
                  : InMemoryStateStore::RecordExit(job_id, attempt, exit);
  }
  Status RecordMetrics(const MetricsBatch& batch) override {
    return refuse ? Unavailable("state store: disk full")
                  : InMemoryStateStore::RecordMetrics(batch);
  }
  bool refuse = false;
};

// What the store could not record is not acknowledged: no job for a
// launch, no exit (the agent retries it), an error for metrics.
TEST(JobManagerStoreFailureTest, NothingUnrecordedIsAcknowledged) {
  FakeClock clock;
  RefusingStore store;
  Coordinator c(&store, &clock);
  const std::string node = c.AddNode("alpha");
  store.refuse = true;
  EXPECT_THAT(c.jobs.LaunchJob(Spec("x", 1)),
              StatusIs(StatusCode::kUnavailable, "state store: disk full"));
  EXPECT_TRUE(c.agents.starts.empty());
  store.refuse = false;
  StatusOr<std::string> id = c.jobs.LaunchJob(Spec("x", 2));
  ASSERT_THAT(id, IsOk());
  ASSERT_EQ(c.StatusOf(*id).state(), proto::JOB_RUNNING);

  store.refuse = true;
  EXPECT_THAT(c.jobs.ReportMetrics(Metrics(*id, 0, 1, 1)),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(c.jobs.ReportWorkerExit(node, *id, 0, Exit(0, 0)),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(c.StatusOf(*id).exits_size(), 0);
  store.refuse = false;
  ASSERT_THAT(c.jobs.ReportWorkerExit(node, *id, 0, Exit(0, 0)), IsOk());
  ASSERT_THAT(c.jobs.ReportWorkerExit(node, *id, 0, Exit(1, 0)), IsOk());
  EXPECT_EQ(c.StatusOf(*id).state(), proto::JOB_SUCCEEDED);
}

}  // namespace
}  // namespace dstrain::coordinator
