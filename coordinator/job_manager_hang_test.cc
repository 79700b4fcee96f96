// JobManager's hang detection: progress records from heartbeats, a job
// that makes no progress for its hang_timeout_s restarts with the
// wavefront in its event and its status, the culprits' last output lines
// are fetched into the report, a checkpoint gets longer, and records of
// another attempt or node are ignored. And stragglers: a rank slow in two
// windows in a row is reported once. Fake agents, fake clock, inline
// executor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "common/testing/status_matchers.h"
#include "coordinator/job_manager.h"
#include "coordinator/testing/fake_agents.h"
#include "coordinator/testing/register_node.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Agents that keep the last lines of every rank: "line <k> of rank <r>".
class LoggingAgents : public FakeAgentClient {
 public:
  void ReadLogsAsync(const std::string& address,
                     const proto::ReadLogsRequest& request,
                     ReadLogsDone done) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      log_reads.push_back({address, request});
    }
    proto::ReadLogsResponse r;
    for (int rank : request.ranks()) {
      for (int k = 0; k < request.tail(); ++k) {
        proto::LogLine* l = r.add_lines();
        l->set_rank(rank);
        l->set_text("line " + std::to_string(k) + " of rank " +
                    std::to_string(rank));
      }
    }
    done(r);
  }
  std::vector<std::pair<std::string, proto::ReadLogsRequest>> log_reads;
};

class JobManagerHangTest : public ::testing::Test {
 protected:
  JobManagerHangTest()
      : nodes_(&clock_, seconds(1), 3),
        jobs_(&nodes_, &kv_, &agents_, &executor_, &clock_,
              JobManagerOptions{"127.0.0.1:7000", 2.5, 1000}) {}

  std::string AddNode(const std::string& host) {
    return RegisterNode(nodes_, jobs_, host);
  }
  // Two nodes of two ranks: a (ranks 0, 1) and b (ranks 2, 3).
  std::string Launch(int max_restarts) {
    proto::JobSpec spec;
    spec.set_name("h");
    spec.set_procs_per_node(2);
    spec.set_nodes_min(2);
    spec.set_nodes_max(2);
    spec.set_yaml("name: h\n");
    spec.set_max_restarts(max_restarts);
    spec.set_hang_timeout_s(30);
    StatusOr<std::string> id = jobs_.LaunchJob(spec);
    EXPECT_THAT(id, IsOk());
    a_ = AddNode("node-a");
    b_ = AddNode("node-b");
    return id.ok() ? *id : "";
  }
  static proto::RankProgress Record(const std::string& job, int rank,
                                    std::int64_t started,
                                    std::int64_t completed,
                                    const std::string& phase = "train",
                                    const std::string& process = "sleeping") {
    proto::RankProgress p;
    p.set_job_id(job);
    p.set_rank(rank);
    p.set_step(started / 3);
    p.set_phase(phase);
    p.set_process(process);
    proto::CollectiveState* w = p.add_comms();
    w->set_comm("world");
    w->set_op("all-reduce");
    w->set_dtype("float32");
    w->set_numel(1024);
    w->set_started_seq(started);
    w->set_completed_seq(completed);
    return p;
  }
  // Both nodes' heartbeats: every rank at (started, completed) but rank 3,
  // which is at `rank3_started` (completed) and `rank3_process`.
  void Beat(const std::string& job, std::int64_t started,
            std::int64_t rank3_started,
            const std::string& rank3_process = "sleeping",
            const std::string& phase = "train") {
    jobs_.ReportProgress(a_, {Record(job, 0, started, started - 1, phase),
                              Record(job, 1, started, started - 1, phase)});
    jobs_.ReportProgress(b_, {Record(job, 2, started, started - 1, phase),
                              Record(job, 3, rank3_started, rank3_started,
                                     phase, rank3_process)});
  }
  proto::JobStatus StatusOf(const std::string& job) {
    StatusOr<proto::JobStatus> s = jobs_.GetJobStatus(job, 0);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? *s : proto::JobStatus();
  }

  FakeClock clock_;
  NodeManager nodes_;
  RendezvousStore kv_;
  LoggingAgents agents_;
  InlineExecutor executor_;
  JobManager jobs_;
  std::string a_, b_;
};

TEST_F(JobManagerHangTest, NoProgressForTheTimeoutRestartsNamingTheCulprit) {
  const std::string id = Launch(/*max_restarts=*/1);
  ASSERT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  // Progress every 10 s for a minute: no hang.
  for (int i = 1; i <= 6; ++i) {
    Beat(id, 3 * i, 3 * i);
    clock_.Advance(seconds(10));
    jobs_.CheckHangs();
  }
  EXPECT_FALSE(StatusOf(id).has_hang());
  // Rank 3 stops before collective #19; the rest wait in it.
  Beat(id, 19, 18);
  clock_.Advance(seconds(29));
  Beat(id, 19, 18);  // the same again: no progress
  jobs_.CheckHangs();
  EXPECT_FALSE(StatusOf(id).has_hang());
  clock_.Advance(seconds(1));
  jobs_.CheckHangs();
  const proto::JobStatus st = StatusOf(id);
  ASSERT_TRUE(st.has_hang());
  EXPECT_EQ(st.hang().collective(), "world all-reduce #19 (1024 x float32)");
  EXPECT_THAT(st.hang().waiting(), ElementsAre(0, 1, 2));
  ASSERT_EQ(st.hang().culprits_size(), 1);
  EXPECT_EQ(st.hang().culprits(0).rank(), 3);
  EXPECT_EQ(st.hang().culprits(0).host(), "node-b");
  EXPECT_EQ(st.hang().culprits(0).why(), "never-arrived");
  EXPECT_EQ(st.restart_reason(), "hang: " + st.hang().summary());
  EXPECT_THAT(st.restart_reason(), HasSubstr("rank 3 on node-b never arrived"));
  // In the events at once, before the restart itself.
  ASSERT_GE(st.events_size(), 1);
  EXPECT_EQ(st.events(st.events_size() - 1).cause(),
            st.restart_reason() + "; restarting: stopping every rank");
  EXPECT_EQ(st.events(st.events_size() - 1).to_state(), proto::JOB_RUNNING);
  // The workers are stopped for the restart, and the culprit's agent was
  // asked for its last lines, which the report now holds.
  EXPECT_EQ(agents_.stops.size(), 2u);
  ASSERT_EQ(agents_.log_reads.size(), 1u);
  EXPECT_EQ(agents_.log_reads[0].first, "node-b:9000");
  EXPECT_THAT(agents_.log_reads[0].second.ranks(), ElementsAre(3));
  EXPECT_THAT(
      st.hang().culprits(0).last_lines(),
      ElementsAre("line 0 of rank 3", "line 1 of rank 3", "line 2 of rank 3",
                  "line 3 of rank 3", "line 4 of rank 3"));
  // Found once: the job is on its way to the next attempt.
  clock_.Advance(seconds(60));
  jobs_.CheckHangs();
  EXPECT_EQ(agents_.log_reads.size(), 1u);
}

TEST_F(JobManagerHangTest, AStoppedRankIsNamedEvenInsideTheCollective) {
  const std::string id = Launch(/*max_restarts=*/0);
  Beat(id, 7, 7, "stopped");
  jobs_.ReportProgress(b_, {Record(id, 3, 7, 6, "train", "stopped")});
  clock_.Advance(seconds(31));
  jobs_.CheckHangs();
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  ASSERT_EQ(st.hang().culprits_size(), 1);
  EXPECT_EQ(st.hang().culprits(0).why(), "stopped");
  EXPECT_THAT(st.reason(), HasSubstr("rank 3 on node-b is stopped"));
}

TEST_F(JobManagerHangTest, ACheckpointHasTenTimesTheTime) {
  const std::string id = Launch(/*max_restarts=*/0);
  Beat(id, 4, 4, "sleeping", "checkpoint");
  clock_.Advance(seconds(299));
  jobs_.CheckHangs();
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  clock_.Advance(seconds(1));
  jobs_.CheckHangs();
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_FAILED);
}

TEST_F(JobManagerHangTest, RecordsOfAnotherAttemptOrNodeAreIgnored) {
  const std::string id = Launch(/*max_restarts=*/0);
  // No record at all: not judged, however long.
  clock_.Advance(seconds(100));
  jobs_.CheckHangs();
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  // Rank 2 reported by node a (it runs on b), and an older attempt's.
  proto::RankProgress stale = Record(id, 0, 5, 5);
  stale.set_attempt(3);
  jobs_.ReportProgress(a_, {Record(id, 2, 5, 5), stale});
  clock_.Advance(seconds(100));
  jobs_.CheckHangs();
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  // A real one counts from when it came.
  jobs_.ReportProgress(a_, {Record(id, 0, 5, 5)});
  clock_.Advance(seconds(29));
  jobs_.CheckHangs();
  EXPECT_EQ(StatusOf(id).state(), proto::JOB_RUNNING);
  clock_.Advance(seconds(2));
  jobs_.CheckHangs();
  const proto::JobStatus st = StatusOf(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  // Ranks 1, 2, 3 never reported a collective.
  EXPECT_EQ(st.hang().culprits_size(), 3);
  EXPECT_EQ(st.hang().culprits(0).why(), "no-record");
}

// Every rank's metrics for steps first..last: rank 3 works `slow_s` per
// step, the others 0.05 s (their step time includes waiting for it).
void ReportSteps(JobManager& jobs, const std::string& id, int first, int last,
                 double slow_s) {
  proto::ReportMetricsRequest r;
  r.set_job_id(id);
  for (int step = first; step <= last; ++step) {
    for (int rank = 0; rank < 4; ++rank) {
      proto::StepMetrics* m = r.add_metrics();
      m->set_job_id(id);
      m->set_rank(rank);
      m->set_step(step);
      const double work = rank == 3 ? slow_s : 0.05;
      m->set_step_time_s(slow_s + 0.01);
      m->set_comm_time_s(slow_s + 0.01 - work);
    }
  }
  ASSERT_THAT(jobs.ReportMetrics(r), IsOk());
}

TEST_F(JobManagerHangTest, ARankSlowTwoWindowsInARowIsReportedOnce) {
  proto::JobSpec spec;
  spec.set_name("s");
  spec.set_procs_per_node(2);
  spec.set_nodes_min(2);
  spec.set_nodes_max(2);
  spec.set_yaml("name: s\n");
  spec.set_straggler_factor(1.5);
  spec.set_straggler_window_steps(5);
  StatusOr<std::string> id = jobs_.LaunchJob(spec);
  ASSERT_THAT(id, IsOk());
  a_ = AddNode("node-a");
  b_ = AddNode("node-b");
  const auto stragglers = [&] {
    int n = 0;
    const proto::JobStatus st = StatusOf(*id);
    for (const proto::JobEvent& e : st.events()) {
      n += e.cause().rfind("straggler: ", 0) == 0;
    }
    return n;
  };
  ReportSteps(jobs_, *id, 1, 1, 0.05);
  jobs_.CheckStragglers();  // the first window starts
  ReportSteps(jobs_, *id, 2, 6, 0.2);
  jobs_.CheckStragglers();  // slow once: not yet
  EXPECT_EQ(stragglers(), 0);
  ReportSteps(jobs_, *id, 7, 11, 0.2);
  jobs_.CheckStragglers();  // slow twice: reported
  ASSERT_EQ(stragglers(), 1);
  const proto::JobStatus st = StatusOf(*id);
  EXPECT_EQ(st.stragglers(),
            "rank 3 on node-b: 0.200 s of work per step, 4.0x the median "
            "0.050 s (steps 6-11)");
  EXPECT_EQ(st.events(st.events_size() - 1).cause(),
            "straggler: " + st.stragglers());
  ReportSteps(jobs_, *id, 12, 16, 0.2);
  jobs_.CheckStragglers();  // still the same rank: said already
  EXPECT_EQ(stragglers(), 1);
  ReportSteps(jobs_, *id, 17, 21, 0.05);
  jobs_.CheckStragglers();  // recovered
  EXPECT_EQ(StatusOf(*id).stragglers(), "");
}

}  // namespace
}  // namespace dstrain::coordinator
