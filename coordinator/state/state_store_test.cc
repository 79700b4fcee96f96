// The StateStore contract (state_store.h), one suite run against both
// stores: what each write keeps, what Load gives back and in which order,
// the refusals (ALREADY_EXISTS, NOT_FOUND) that write nothing, and writes
// from several threads at once.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include "common/testing/status_matchers.h"
#include "coordinator/state/in_memory_state_store.h"
#include "coordinator/state/sqlite_state_store.h"

namespace dstrain::coordinator {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

MATCHER_P(EqualsProto, expected, "equals " + expected.ShortDebugString()) {
  *result_listener << "which is " << arg.ShortDebugString();
  return google::protobuf::util::MessageDifferencer::Equals(arg, expected);
}

struct StoreKind {
  std::string name;
  // Makes a store keeping its files (if any) under `dir`.
  std::function<std::unique_ptr<StateStore>(const std::string& dir)> make;
};

// Names the parameter in test names ("/Sqlite"), not its bytes.
void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }

std::string PrintKind(const ::testing::TestParamInfo<StoreKind>& info) {
  return info.param.name;
}

proto::JobSpec Spec(const std::string& name) {
  proto::JobSpec spec;
  spec.set_name(name);
  spec.set_yaml("name: " + name + "\nprocs_per_node: 2\n");
  spec.set_procs_per_node(2);
  spec.set_nodes_min(1);
  spec.set_nodes_max(1);
  spec.set_max_restarts(3);
  return spec;
}

proto::JobEvent Event(std::int64_t t, proto::JobState from, proto::JobState to,
                      const std::string& cause, int attempt = 0) {
  proto::JobEvent e;
  e.set_time_unix_us(t);
  e.set_from_state(from);
  e.set_to_state(to);
  e.set_attempt(attempt);
  e.set_cause(cause);
  return e;
}

JobSubmission Submission(const std::string& id, std::int64_t order) {
  JobSubmission s;
  s.id = id;
  s.order = order;
  s.spec = Spec("job-" + id);
  s.submitted_us = 1000 * order;
  s.event = Event(s.submitted_us, proto::JOB_STATE_UNSPECIFIED,
                  proto::JOB_PENDING, "submitted");
  return s;
}

proto::RankAssignment Rank(int rank, const std::string& node) {
  proto::RankAssignment a;
  a.set_rank(rank);
  a.set_local_rank(rank % 2);
  a.set_node_rank(rank / 2);
  a.set_node_id(node);
  a.set_host("host-" + node);
  return a;
}

proto::StepMetrics Step(const std::string& job, int step, int attempt = 0) {
  proto::StepMetrics m;
  m.set_job_id(job);
  m.set_rank(0);
  m.set_attempt(attempt);
  m.set_step(step);
  m.set_loss(10.0 / step);
  return m;
}

proto::RankResult Result(int rank, double loss) {
  proto::RankResult r;
  r.set_rank(rank);
  r.set_steps(5);
  r.set_final_loss(loss);
  r.set_param_digest("digest");
  return r;
}

proto::WorkerExit Exit(int rank, int code) {
  proto::WorkerExit e;
  e.set_rank(rank);
  e.set_exit_code(code);
  return e;
}

StoredNode Node(const std::string& id, std::int64_t ordinal) {
  StoredNode n;
  n.id = id;
  n.ordinal = ordinal;
  n.inventory.set_hostname("host-" + id);
  n.inventory.add_addresses("10.0.0." + std::to_string(ordinal));
  n.inventory.set_cpus(8);
  n.agent_address = "10.0.0." + std::to_string(ordinal) + ":9000";
  n.registered_us = 5000 + ordinal;
  return n;
}

std::vector<int> StepsOf(const StoredJob& job) {
  std::vector<int> steps;
  for (const proto::StepMetrics& m : job.history) steps.push_back(m.step());
  return steps;
}

class StateStoreContractTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_state_store_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    store_ = GetParam().make((dir_ / "state").string());
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  StoredState LoadAll() {
    StatusOr<StoredState> s = store_->Load();
    EXPECT_THAT(s, IsOk());
    return s.ok() ? *s : StoredState();
  }
  // The one job there is.
  StoredJob OnlyJob() {
    StoredState s = LoadAll();
    EXPECT_EQ(s.jobs.size(), 1u);
    return s.jobs.empty() ? StoredJob() : s.jobs[0];
  }

  fs::path dir_;
  std::unique_ptr<StateStore> store_;
};

TEST_P(StateStoreContractTest, AnEmptyStoreLoadsNothing) {
  StoredState s = LoadAll();
  EXPECT_TRUE(s.jobs.empty());
  EXPECT_TRUE(s.nodes.empty());
}

TEST_P(StateStoreContractTest, DescribeSaysWhereTheStateIs) {
  const std::string d = store_->Describe();
  if (GetParam().name == "InMemory") {
    EXPECT_EQ(d, "in memory");
  } else {
    EXPECT_EQ(d, (dir_ / "state").string());
  }
}

TEST_P(StateStoreContractTest, ACreatedJobComesBackPendingWithItsSubmission) {
  const JobSubmission sub = Submission("j-1", 1);
  ASSERT_THAT(store_->CreateJob(sub), IsOk());
  StoredJob job = OnlyJob();
  EXPECT_EQ(job.id, "j-1");
  EXPECT_EQ(job.order, 1);
  EXPECT_THAT(job.spec, EqualsProto(sub.spec));
  EXPECT_EQ(job.submitted_us, 1000);
  EXPECT_EQ(job.progress, JobProgress());
  EXPECT_EQ(job.progress.state, proto::JOB_PENDING);
  ASSERT_EQ(job.events.size(), 1u);
  EXPECT_THAT(job.events[0], EqualsProto(sub.event));
  EXPECT_TRUE(job.ranks.empty());
  EXPECT_TRUE(job.history.empty());
  EXPECT_TRUE(job.results.empty());
  EXPECT_TRUE(job.exits.empty());
}

TEST_P(StateStoreContractTest, ASecondJobWithTheSameIdOrOrderIsRefused) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  EXPECT_THAT(store_->CreateJob(Submission("j-1", 2)),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("j-1")));
  EXPECT_THAT(store_->CreateJob(Submission("j-2", 1)),
              StatusIs(StatusCode::kAlreadyExists));
  StoredJob job = OnlyJob();
  EXPECT_EQ(job.id, "j-1");
  EXPECT_EQ(job.events.size(), 1u);
}

TEST_P(StateStoreContractTest, JobsComeBackInSubmissionOrder) {
  ASSERT_THAT(store_->CreateJob(Submission("j-c", 3)), IsOk());
  ASSERT_THAT(store_->CreateJob(Submission("j-a", 1)), IsOk());
  ASSERT_THAT(store_->CreateJob(Submission("j-b", 2)), IsOk());
  StoredState s = LoadAll();
  ASSERT_EQ(s.jobs.size(), 3u);
  EXPECT_EQ(s.jobs[0].id, "j-a");
  EXPECT_EQ(s.jobs[1].id, "j-b");
  EXPECT_EQ(s.jobs[2].id, "j-c");
}

TEST_P(StateStoreContractTest, UpdatesReplaceProgressAndAppendEvents) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  JobChange start;
  start.job_id = "j-1";
  start.progress.state = proto::JOB_STARTING;
  start.progress.world_size = 4;
  start.progress.started_us = 2000;
  start.event = Event(2000, proto::JOB_PENDING, proto::JOB_STARTING,
                      "placed on 2 nodes (a, b)");
  start.ranks = std::vector<proto::RankAssignment>{
      Rank(0, "n-1"), Rank(1, "n-1"), Rank(2, "n-2"), Rank(3, "n-2")};
  ASSERT_THAT(store_->UpdateJob(start), IsOk());

  JobChange run;  // no ranks: they stay
  run.job_id = "j-1";
  run.progress = start.progress;
  run.progress.state = proto::JOB_RUNNING;
  run.event = Event(2100, proto::JOB_STARTING, proto::JOB_RUNNING,
                    "workers started on 2 nodes");
  ASSERT_THAT(store_->UpdateJob(run), IsOk());

  StoredJob job = OnlyJob();
  EXPECT_EQ(job.progress, run.progress);
  ASSERT_EQ(job.events.size(), 3u);
  EXPECT_THAT(job.events[1], EqualsProto(start.event));
  EXPECT_THAT(job.events[2], EqualsProto(run.event));
  ASSERT_EQ(job.ranks.size(), 4u);
  for (int r = 0; r < 4; ++r) {
    EXPECT_THAT(job.ranks[r], EqualsProto((*start.ranks)[r]));
  }

  // A new placement (the next attempt, on one node) replaces the ranks.
  JobChange again;
  again.job_id = "j-1";
  again.progress.state = proto::JOB_STARTING;
  again.progress.attempt = 1;
  again.progress.world_size = 2;
  again.progress.restart_reason = "rank 3 on b was killed by SIGKILL";
  again.progress.started_us = 3000;
  again.event = Event(3000, proto::JOB_PENDING, proto::JOB_STARTING,
                      "placed on 1 node (c)", 1);
  again.ranks =
      std::vector<proto::RankAssignment>{Rank(0, "n-3"), Rank(1, "n-3")};
  ASSERT_THAT(store_->UpdateJob(again), IsOk());

  JobChange end;
  end.job_id = "j-1";
  end.progress = again.progress;
  end.progress.state = proto::JOB_FAILED;
  end.progress.reason = "rank 1 on c exited with code 3";
  end.progress.ended_us = 4000;
  end.event = Event(4000, proto::JOB_STARTING, proto::JOB_FAILED,
                    end.progress.reason, 1);
  ASSERT_THAT(store_->UpdateJob(end), IsOk());

  job = OnlyJob();
  EXPECT_EQ(job.progress, end.progress);
  EXPECT_EQ(job.events.size(), 5u);
  ASSERT_EQ(job.ranks.size(), 2u);
  EXPECT_EQ(job.ranks[1].node_id(), "n-3");
}

TEST_P(StateStoreContractTest, AnUpdateOfAnUnknownJobWritesNothing) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  JobChange change;
  change.job_id = "j-2";
  change.progress.state = proto::JOB_FAILED;
  change.event = Event(1, proto::JOB_PENDING, proto::JOB_FAILED, "x");
  change.ranks = std::vector<proto::RankAssignment>{Rank(0, "n-1")};
  EXPECT_THAT(store_->UpdateJob(change),
              StatusIs(StatusCode::kNotFound, HasSubstr("j-2")));
  StoredJob job = OnlyJob();
  EXPECT_EQ(job.progress.state, proto::JOB_PENDING);
  EXPECT_EQ(job.events.size(), 1u);
  EXPECT_TRUE(job.ranks.empty());
}

TEST_P(StateStoreContractTest, StepsAreKeptByStepAndAReportedStepReplaces) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  MetricsBatch first;
  first.steps.push_back(
      {"j-1", std::nullopt, {Step("j-1", 1), Step("j-1", 2)}, std::nullopt});
  ASSERT_THAT(store_->RecordMetrics(first), IsOk());
  MetricsBatch second;
  proto::StepMetrics again = Step("j-1", 2);
  again.set_loss(0.5);
  second.steps.push_back(
      {"j-1", std::nullopt, {again, Step("j-1", 3)}, std::nullopt});
  ASSERT_THAT(store_->RecordMetrics(second), IsOk());
  StoredJob job = OnlyJob();
  EXPECT_EQ(StepsOf(job), (std::vector<int>{1, 2, 3}));
  EXPECT_THAT(job.history[0], EqualsProto(Step("j-1", 1)));
  EXPECT_THAT(job.history[1], EqualsProto(again));
}

TEST_P(StateStoreContractTest, StepsDropFromThenAddThenDropBefore) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  MetricsBatch fill;
  StepsChange c{"j-1", std::nullopt, {}, std::nullopt};
  for (int s = 1; s <= 8; ++s) c.steps.push_back(Step("j-1", s));
  fill.steps.push_back(c);
  ASSERT_THAT(store_->RecordMetrics(fill), IsOk());

  // A restarted attempt resumes after step 5: 6.. go, its 6 and 7 come,
  // and the history keeps steps from 3 on.
  MetricsBatch restart;
  restart.steps.push_back(
      {"j-1", 6, {Step("j-1", 6, 1), Step("j-1", 7, 1)}, 3});
  ASSERT_THAT(store_->RecordMetrics(restart), IsOk());
  StoredJob job = OnlyJob();
  EXPECT_EQ(StepsOf(job), (std::vector<int>{3, 4, 5, 6, 7}));
  EXPECT_EQ(job.history[2].attempt(), 0);
  EXPECT_EQ(job.history[3].attempt(), 1);
  EXPECT_EQ(job.history[4].attempt(), 1);
}

TEST_P(StateStoreContractTest, OneBatchSpansJobsAndIsAllOrNothing) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  ASSERT_THAT(store_->CreateJob(Submission("j-2", 2)), IsOk());
  MetricsBatch both;
  both.steps.push_back({"j-1", std::nullopt, {Step("j-1", 1)}, std::nullopt});
  both.steps.push_back({"j-2", std::nullopt, {Step("j-2", 7)}, std::nullopt});
  both.results_job_id = "j-2";
  both.results = {Result(0, 1.5)};
  ASSERT_THAT(store_->RecordMetrics(both), IsOk());

  MetricsBatch bad;  // the second job is unknown: the first's step is not kept
  bad.steps.push_back({"j-1", std::nullopt, {Step("j-1", 2)}, std::nullopt});
  bad.steps.push_back({"j-9", std::nullopt, {Step("j-9", 1)}, std::nullopt});
  EXPECT_THAT(store_->RecordMetrics(bad),
              StatusIs(StatusCode::kNotFound, HasSubstr("j-9")));
  MetricsBatch bad_results;
  bad_results.steps.push_back(
      {"j-1", std::nullopt, {Step("j-1", 3)}, std::nullopt});
  bad_results.results_job_id = "j-9";
  bad_results.results = {Result(0, 1.0)};
  EXPECT_THAT(store_->RecordMetrics(bad_results),
              StatusIs(StatusCode::kNotFound, HasSubstr("j-9")));

  StoredState s = LoadAll();
  ASSERT_EQ(s.jobs.size(), 2u);
  EXPECT_EQ(StepsOf(s.jobs[0]), (std::vector<int>{1}));
  EXPECT_EQ(StepsOf(s.jobs[1]), (std::vector<int>{7}));
  EXPECT_TRUE(s.jobs[0].results.empty());
  ASSERT_EQ(s.jobs[1].results.size(), 1u);
  EXPECT_THAT(s.jobs[1].results[0], EqualsProto(Result(0, 1.5)));
}

TEST_P(StateStoreContractTest, ResultsAndExitsAreThoseOfTheCurrentAttempt) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  MetricsBatch results;
  results.results_job_id = "j-1";
  results.results_attempt = 0;
  results.results = {Result(1, 2.0), Result(0, 1.0)};
  ASSERT_THAT(store_->RecordMetrics(results), IsOk());
  results.results = {Result(1, 1.25)};  // replaces rank 1's of attempt 0
  ASSERT_THAT(store_->RecordMetrics(results), IsOk());
  ASSERT_THAT(store_->RecordExit("j-1", 0, Exit(1, 9)), IsOk());
  ASSERT_THAT(store_->RecordExit("j-1", 0, Exit(1, 0)), IsOk());  // ignored
  ASSERT_THAT(store_->RecordExit("j-1", 0, Exit(0, 0)), IsOk());

  StoredJob job = OnlyJob();
  ASSERT_EQ(job.results.size(), 2u);
  EXPECT_THAT(job.results[0], EqualsProto(Result(0, 1.0)));
  EXPECT_THAT(job.results[1], EqualsProto(Result(1, 1.25)));
  ASSERT_EQ(job.exits.size(), 2u);
  EXPECT_THAT(job.exits[0], EqualsProto(Exit(0, 0)));
  EXPECT_THAT(job.exits[1], EqualsProto(Exit(1, 9)));  // the first report

  // Attempt 1: attempt 0's are kept but not given back.
  JobChange next;
  next.job_id = "j-1";
  next.progress.attempt = 1;
  next.event = Event(5, proto::JOB_RUNNING, proto::JOB_PENDING, "restart", 1);
  ASSERT_THAT(store_->UpdateJob(next), IsOk());
  job = OnlyJob();
  EXPECT_TRUE(job.results.empty());
  EXPECT_TRUE(job.exits.empty());
  ASSERT_THAT(store_->RecordExit("j-1", 1, Exit(0, 0)), IsOk());
  results.results_attempt = 1;
  results.results = {Result(0, 0.5)};
  ASSERT_THAT(store_->RecordMetrics(results), IsOk());
  job = OnlyJob();
  ASSERT_EQ(job.exits.size(), 1u);
  ASSERT_EQ(job.results.size(), 1u);
  EXPECT_THAT(job.results[0], EqualsProto(Result(0, 0.5)));

  EXPECT_THAT(store_->RecordExit("j-9", 0, Exit(0, 0)),
              StatusIs(StatusCode::kNotFound, HasSubstr("j-9")));
}

TEST_P(StateStoreContractTest, NodesComeBackByOrdinalAndCanBeMarkedLost) {
  ASSERT_THAT(store_->PutNode(Node("n-2", 2)), IsOk());
  ASSERT_THAT(store_->PutNode(Node("n-1", 1)), IsOk());
  ASSERT_THAT(store_->PutNode(Node("n-3", 3)), IsOk());
  EXPECT_THAT(store_->PutNode(Node("n-1", 7)),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("n-1")));
  EXPECT_THAT(store_->PutNode(Node("n-7", 1)),
              StatusIs(StatusCode::kAlreadyExists));

  ASSERT_THAT(store_->MarkNodesLost({"n-1", "n-3"}), IsOk());
  // One unknown id: none of them is marked.
  EXPECT_THAT(store_->MarkNodesLost({"n-2", "n-9"}),
              StatusIs(StatusCode::kNotFound, HasSubstr("n-9")));

  StoredState s = LoadAll();
  ASSERT_EQ(s.nodes.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const StoredNode expected = Node("n-" + std::to_string(i + 1), i + 1);
    EXPECT_EQ(s.nodes[i].id, expected.id);
    EXPECT_EQ(s.nodes[i].ordinal, expected.ordinal);
    EXPECT_THAT(s.nodes[i].inventory, EqualsProto(expected.inventory));
    EXPECT_EQ(s.nodes[i].agent_address, expected.agent_address);
    EXPECT_EQ(s.nodes[i].registered_us, expected.registered_us);
  }
  EXPECT_TRUE(s.nodes[0].lost);
  EXPECT_FALSE(s.nodes[1].lost);
  EXPECT_TRUE(s.nodes[2].lost);
}

// A node registering again under its id (after a coordinator restart):
// inventory, address and lost flag are replaced, id, ordinal and
// registration time stay.
TEST_P(StateStoreContractTest, AnUpdatedNodeKeepsItsIdOrdinalAndTime) {
  ASSERT_THAT(store_->PutNode(Node("n-1", 1)), IsOk());
  ASSERT_THAT(store_->MarkNodesLost({"n-1"}), IsOk());
  StoredNode again = Node("n-1", 99);
  again.inventory.set_cpus(64);
  again.agent_address = "10.0.0.9:7001";
  again.registered_us = 1;
  again.lost = false;
  again.drained = true;
  again.drain_reason = "bad DIMM";
  ASSERT_THAT(store_->UpdateNode(again), IsOk());
  EXPECT_THAT(store_->UpdateNode(Node("n-9", 9)),
              StatusIs(StatusCode::kNotFound, HasSubstr("n-9")));
  StoredState s = LoadAll();
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.nodes[0].ordinal, 1);
  EXPECT_EQ(s.nodes[0].registered_us, Node("n-1", 1).registered_us);
  EXPECT_EQ(s.nodes[0].inventory.cpus(), 64);
  EXPECT_EQ(s.nodes[0].agent_address, "10.0.0.9:7001");
  EXPECT_FALSE(s.nodes[0].lost);
  EXPECT_TRUE(s.nodes[0].drained);
  EXPECT_EQ(s.nodes[0].drain_reason, "bad DIMM");
}

// The digest of a job's credential is part of its progress.
TEST_P(StateStoreContractTest, TheCredentialDigestIsKeptWithTheProgress) {
  ASSERT_THAT(store_->CreateJob(Submission("j-1", 1)), IsOk());
  JobChange start;
  start.job_id = "j-1";
  start.progress.state = proto::JOB_STARTING;
  start.progress.credential_sha256 = std::string(64, 'f');
  start.event = Event(2000, proto::JOB_PENDING, proto::JOB_STARTING, "placed");
  ASSERT_THAT(store_->UpdateJob(start), IsOk());
  EXPECT_EQ(OnlyJob().progress.credential_sha256, std::string(64, 'f'));
}

TEST_P(StateStoreContractTest, WritesFromSeveralThreadsAreAllKept) {
  constexpr int kThreads = 4;
  constexpr int kJobsEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kJobsEach; ++i) {
        const int order = t * kJobsEach + i + 1;
        const std::string id = "j-" + std::to_string(order);
        EXPECT_THAT(store_->CreateJob(Submission(id, order)), IsOk());
        MetricsBatch b;
        b.steps.push_back({id, std::nullopt, {Step(id, 1)}, std::nullopt});
        EXPECT_THAT(store_->RecordMetrics(b), IsOk());
      }
      EXPECT_THAT(store_->PutNode(Node("n-" + std::to_string(t + 1), t + 1)),
                  IsOk());
    });
  }
  for (std::thread& t : threads) t.join();
  StoredState s = LoadAll();
  ASSERT_EQ(s.jobs.size(), static_cast<std::size_t>(kThreads * kJobsEach));
  for (std::size_t i = 0; i < s.jobs.size(); ++i) {
    EXPECT_EQ(s.jobs[i].order, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(StepsOf(s.jobs[i]), (std::vector<int>{1}));
  }
  EXPECT_EQ(s.nodes.size(), static_cast<std::size_t>(kThreads));
}

INSTANTIATE_TEST_SUITE_P(
    BothStores, StateStoreContractTest,
    ::testing::Values(
        StoreKind{"InMemory",
                  [](const std::string&) -> std::unique_ptr<StateStore> {
                    return std::make_unique<InMemoryStateStore>();
                  }},
        StoreKind{"Sqlite",
                  [](const std::string& dir) -> std::unique_ptr<StateStore> {
                    StatusOr<std::unique_ptr<SqliteStateStore>> s =
                        SqliteStateStore::Open(dir);
                    EXPECT_THAT(s, IsOk());
                    if (!s.ok()) return nullptr;
                    return std::move(s).value();
                  }}),
    PrintKind);

}  // namespace
}  // namespace dstrain::coordinator
