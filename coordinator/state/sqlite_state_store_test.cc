// What only the SQLite store promises (sqlite_state_store.h): everything
// written is there after a close and reopen; the lock on DIR refuses a
// second opener in this process and in another one, naming DIR and the
// holder's PID, and is gone when its holder is SIGKILLed; schema versions
// and files that are not ours are refused with a clear message; and a
// writer SIGKILLed between (or during) transactions loses nothing it had
// committed.
#include "coordinator/state/sqlite_state_store.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "common/testing/status_matchers.h"

namespace dstrain::coordinator {
namespace {

namespace fs = std::filesystem;
using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

bool SameProto(const google::protobuf::Message& a,
               const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

template <typename M>
void ExpectSameProtos(const std::vector<M>& a, const std::vector<M>& b,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(SameProto(a[i], b[i]))
        << what << " " << i << ": " << a[i].ShortDebugString() << " vs "
        << b[i].ShortDebugString();
  }
}

void ExpectSameState(const StoredState& a, const StoredState& b) {
  ASSERT_EQ(a.jobs.size(), b.jobs.size());
  for (std::size_t i = 0; i < a.jobs.size(); ++i) {
    const StoredJob& x = a.jobs[i];
    const StoredJob& y = b.jobs[i];
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.order, y.order);
    EXPECT_TRUE(SameProto(x.spec, y.spec));
    EXPECT_EQ(x.submitted_us, y.submitted_us);
    EXPECT_EQ(x.progress, y.progress);
    ExpectSameProtos(x.ranks, y.ranks, "ranks");
    ExpectSameProtos(x.events, y.events, "events");
    ExpectSameProtos(x.history, y.history, "history");
    ExpectSameProtos(x.results, y.results, "results");
    ExpectSameProtos(x.exits, y.exits, "exits");
  }
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (std::size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].id, b.nodes[i].id);
    EXPECT_EQ(a.nodes[i].ordinal, b.nodes[i].ordinal);
    EXPECT_TRUE(SameProto(a.nodes[i].inventory, b.nodes[i].inventory));
    EXPECT_EQ(a.nodes[i].agent_address, b.nodes[i].agent_address);
    EXPECT_EQ(a.nodes[i].registered_us, b.nodes[i].registered_us);
    EXPECT_EQ(a.nodes[i].lost, b.nodes[i].lost);
  }
}

proto::JobEvent Event(proto::JobState from, proto::JobState to,
                      const std::string& cause, int attempt = 0) {
  proto::JobEvent e;
  e.set_time_unix_us(1700000000000000 + to);
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
  s.spec.set_name("job-" + id);
  s.spec.set_yaml("name: job-" + id + "\n");
  s.spec.set_procs_per_node(2);
  s.spec.set_nodes_min(1);
  s.spec.set_nodes_max(1);
  s.submitted_us = 1700000000000000 + order;
  s.event =
      Event(proto::JOB_STATE_UNSPECIFIED, proto::JOB_PENDING, "submitted");
  return s;
}

JobChange Change(const std::string& id, proto::JobState from,
                 proto::JobState to, const std::string& cause) {
  JobChange c;
  c.job_id = id;
  c.progress.state = to;
  c.progress.world_size = 2;
  c.event = Event(from, to, cause);
  return c;
}

MetricsBatch Steps(const std::string& id, int first, int last) {
  MetricsBatch b;
  StepsChange c{id, std::nullopt, {}, std::nullopt};
  for (int s = first; s <= last; ++s) {
    proto::StepMetrics m;
    m.set_job_id(id);
    m.set_step(s);
    m.set_loss(1.0 / s);
    c.steps.push_back(m);
  }
  b.steps.push_back(c);
  return b;
}

// One job's whole life as three transactions: created, running, a step.
Status WriteJob(StateStore* store, int i) {
  const std::string id = "j-" + std::to_string(i);
  DSTRAIN_RETURN_IF_ERROR(store->CreateJob(Submission(id, i)));
  DSTRAIN_RETURN_IF_ERROR(store->UpdateJob(
      Change(id, proto::JOB_PENDING, proto::JOB_RUNNING, "started")));
  return store->RecordMetrics(Steps(id, 1, 1));
}

class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/dstrain_sqlite_state_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = (root_ / "state").string();
  }
  void TearDown() override {
    ::chmod(root_.c_str(), 0700);
    fs::remove_all(root_);
  }

  std::unique_ptr<SqliteStateStore> OpenOrDie() {
    StatusOr<std::unique_ptr<SqliteStateStore>> s =
        SqliteStateStore::Open(dir_);
    EXPECT_THAT(s, IsOk());
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Runs `sql` on DIR/state.db with SQLite directly (the store closed).
  void Sql(const std::string& sql) {
    fs::create_directories(dir_);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/state.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  std::string SqlText(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ + "/state.db").c_str(), &db,
                              SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
    }
    sqlite3_finalize(q);
    sqlite3_close(db);
    return out;
  }

  fs::path root_;
  std::string dir_;
};

TEST_F(SqliteStateStoreTest, EverythingWrittenIsThereAfterReopening) {
  StoredState before;
  {
    std::unique_ptr<SqliteStateStore> store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= 3; ++i) ASSERT_THAT(WriteJob(store.get(), i), IsOk());
    JobChange placed =
        Change("j-2", proto::JOB_RUNNING, proto::JOB_STARTING, "placed");
    placed.progress.attempt = 1;
    placed.progress.restart_reason = "rank 1 on a was killed by SIGKILL";
    placed.progress.started_us = 42;
    proto::RankAssignment a;
    a.set_rank(0);
    a.set_node_id("n-1");
    a.set_host("a");
    placed.ranks = std::vector<proto::RankAssignment>{a};
    ASSERT_THAT(store->UpdateJob(placed), IsOk());
    MetricsBatch b = Steps("j-2", 2, 4);
    b.steps[0].drop_from_step = 1;
    b.results_job_id = "j-2";
    b.results_attempt = 1;
    proto::RankResult r;
    r.set_rank(0);
    r.set_final_loss(0.25);
    r.set_param_digest("abc");
    b.results.push_back(r);
    ASSERT_THAT(store->RecordMetrics(b), IsOk());
    proto::WorkerExit e;
    e.set_rank(0);
    e.set_signal(SIGKILL);
    e.set_last_error("boom | bang");
    ASSERT_THAT(store->RecordExit("j-2", 1, e), IsOk());
    StoredNode n;
    n.id = "n-1";
    n.ordinal = 1;
    n.inventory.set_hostname("a");
    n.inventory.add_addresses("10.0.0.1");
    n.agent_address = "10.0.0.1:9000";
    n.registered_us = 7;
    ASSERT_THAT(store->PutNode(n), IsOk());
    n.id = "n-2";
    n.ordinal = 2;
    ASSERT_THAT(store->PutNode(n), IsOk());
    ASSERT_THAT(store->MarkNodesLost({"n-1"}), IsOk());
    StatusOr<StoredState> s = store->Load();
    ASSERT_THAT(s, IsOk());
    before = *s;
  }
  ASSERT_EQ(before.jobs.size(), 3u);
  ASSERT_EQ(before.jobs[1].history.size(), 3u);
  ASSERT_EQ(before.jobs[1].exits.size(), 1u);
  ASSERT_EQ(before.jobs[1].results.size(), 1u);

  std::unique_ptr<SqliteStateStore> again = OpenOrDie();
  ASSERT_NE(again, nullptr);
  StatusOr<StoredState> after = again->Load();
  ASSERT_THAT(after, IsOk());
  ExpectSameState(before, *after);
}

TEST_F(SqliteStateStoreTest, MakesTheDirectoryAWalDatabaseAndALockWithItsPid) {
  {
    std::unique_ptr<SqliteStateStore> store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    struct stat st;
    ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::ifstream lock(dir_ + "/lock");
    std::string pid;
    std::getline(lock, pid);
    EXPECT_EQ(pid, std::to_string(::getpid()));
    EXPECT_EQ(SqlText("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(SqlText("PRAGMA user_version"),
              std::to_string(SqliteStateStore::SchemaVersion()));
    EXPECT_EQ(SqlText("PRAGMA application_id"),
              std::to_string(SqliteStateStore::kApplicationId));
  }
  // An existing directory with a database of this version opens as is.
  EXPECT_NE(OpenOrDie(), nullptr);
}

TEST_F(SqliteStateStoreTest, ASecondOpenInThisProcessIsRefused) {
  std::unique_ptr<SqliteStateStore> first = OpenOrDie();
  ASSERT_NE(first, nullptr);
  StatusOr<std::unique_ptr<SqliteStateStore>> second =
      SqliteStateStore::Open(dir_ + "/");
  EXPECT_THAT(
      second,
      StatusIs(StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("state directory " + dir_ + " is in use"),
                     HasSubstr("pid " + std::to_string(::getpid())),
                     HasSubstr(dir_ + "/lock"))));
  EXPECT_EQ(second.status().message().find('\n'), std::string::npos);
  first.reset();  // closing drops the lock
  EXPECT_NE(OpenOrDie(), nullptr);
}

// In a child process: Open(dir) and write its error (or "opened") to `fd`.
void OpenInChild(const std::string& dir, int fd) {
  StatusOr<std::unique_ptr<SqliteStateStore>> s = SqliteStateStore::Open(dir);
  const std::string out = s.ok() ? "opened" : s.status().message();
  (void)!::write(fd, out.data(), out.size());
  ::_exit(s.ok() ? 0 : 3);
}

// Runs OpenInChild in a fork; returns (exit code, what it wrote).
std::pair<int, std::string> OpenInAnotherProcess(const std::string& dir) {
  int p[2];
  if (::pipe(p) != 0) return {-1, "pipe"};
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[0]);
    OpenInChild(dir, p[1]);
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  ::close(p[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(SqliteStateStoreTest, AnotherProcessIsRefusedWhileTheStoreIsOpen) {
  std::unique_ptr<SqliteStateStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto [code, message] = OpenInAnotherProcess(dir_);
  EXPECT_EQ(code, 3) << message;
  EXPECT_THAT(message,
              AllOf(HasSubstr("state directory " + dir_ + " is in use"),
                    HasSubstr("pid " + std::to_string(::getpid()) + " holds " +
                              dir_ + "/lock")));
  store.reset();
  auto [code2, message2] = OpenInAnotherProcess(dir_);
  EXPECT_EQ(code2, 0) << message2;
}

// A state directory written by the first schema (no credential digests)
// is migrated in place when a newer dstrain opens it: its jobs read back as
// they were, with an empty digest, and the new column takes writes.
TEST_F(SqliteStateStoreTest, AVersion1DatabaseIsMigratedKeepingItsJobs) {
  StoredState before;
  {
    std::unique_ptr<SqliteStateStore> store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->CreateJob(Submission("j-1", 1)), IsOk());
    ASSERT_THAT(store->UpdateJob(Change("j-1", proto::JOB_PENDING,
                                        proto::JOB_RUNNING, "placed")),
                IsOk());
    StatusOr<StoredState> s = store->Load();
    ASSERT_THAT(s, IsOk());
    before = *s;
  }
  // Back to what version 1 wrote.
  Sql("ALTER TABLE jobs DROP COLUMN credential_sha256; "
      "ALTER TABLE nodes DROP COLUMN last_heartbeat_us; "
      "ALTER TABLE nodes DROP COLUMN drained; "
      "ALTER TABLE nodes DROP COLUMN drain_reason; "
      "ALTER TABLE nodes DROP COLUMN cordoned_until_us; "
      "ALTER TABLE nodes DROP COLUMN cordon_reason; "
      "PRAGMA user_version = 1");
  ASSERT_EQ(SqlText("PRAGMA user_version"), "1");
  std::unique_ptr<SqliteStateStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(SqlText("PRAGMA user_version"),
            std::to_string(SqliteStateStore::SchemaVersion()));
  StatusOr<StoredState> after = store->Load();
  ASSERT_THAT(after, IsOk());
  ExpectSameState(before, *after);
  JobChange c = Change("j-1", proto::JOB_RUNNING, proto::JOB_RUNNING, "again");
  c.progress.credential_sha256 = std::string(64, 'a');
  ASSERT_THAT(store->UpdateJob(c), IsOk());
  StatusOr<StoredState> updated = store->Load();
  ASSERT_THAT(updated, IsOk());
  EXPECT_EQ(updated->jobs[0].progress.credential_sha256, std::string(64, 'a'));
}

TEST_F(SqliteStateStoreTest, ADatabaseFromANewerDstrainIsRefused) {
  { ASSERT_NE(OpenOrDie(), nullptr); }
  Sql("PRAGMA user_version = 99");
  for (int i = 0; i < 2; ++i) {  // the failed open left no lock behind
    EXPECT_THAT(
        SqliteStateStore::Open(dir_),
        StatusIs(
            StatusCode::kFailedPrecondition,
            AllOf(
                HasSubstr(dir_ + "/state.db"), HasSubstr("schema version 99"),
                HasSubstr("newer dstrain"),
                HasSubstr("up to " +
                          std::to_string(SqliteStateStore::SchemaVersion())))));
  }
}

TEST_F(SqliteStateStoreTest, TablesWithoutASchemaVersionAreRefused) {
  Sql("PRAGMA application_id = " +
      std::to_string(SqliteStateStore::kApplicationId) +
      "; CREATE TABLE jobs (id TEXT)");
  EXPECT_THAT(SqliteStateStore::Open(dir_),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(dir_ + "/state.db"),
                             HasSubstr("schema version 0"))));
}

TEST_F(SqliteStateStoreTest, AnotherProgramsDatabaseIsRefused) {
  Sql("CREATE TABLE photos (id INTEGER, path TEXT)");
  EXPECT_THAT(SqliteStateStore::Open(dir_),
              StatusIs(StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(dir_ + "/state.db"),
                             HasSubstr("not a dstrain state database"))));
}

TEST_F(SqliteStateStoreTest, AGarbageFileIsRefused) {
  fs::create_directories(dir_);
  {
    std::ofstream out(dir_ + "/state.db");
    for (int i = 0; i < 200; ++i) out << "this is not a database, ";
  }
  StatusOr<std::unique_ptr<SqliteStateStore>> s = SqliteStateStore::Open(dir_);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition,
                          AllOf(HasSubstr(dir_ + "/state.db"),
                                HasSubstr("not a database"))));
  EXPECT_EQ(s.status().message().find('\n'), std::string::npos);
}

TEST_F(SqliteStateStoreTest, ADirectoryThatCannotBeUsedIsRefused) {
  const std::string file = (root_ / "file").string();
  std::ofstream(file) << "x";
  EXPECT_THAT(SqliteStateStore::Open(file),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr(file + " is not a directory")));
  const std::string orphan = (root_ / "no" / "such").string();
  EXPECT_THAT(SqliteStateStore::Open(orphan),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("cannot create state directory " + orphan)));
  EXPECT_THAT(SqliteStateStore::Open(""),
              StatusIs(StatusCode::kInvalidArgument));
  // Permissions do not stop root; the rest of this test needs another user.
  if (::geteuid() == 0) return;
  fs::create_directories(dir_);
  ::chmod(dir_.c_str(), 0500);
  EXPECT_THAT(SqliteStateStore::Open(dir_),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr(dir_ + " is not writable")));
}

// The child writes whole jobs (three transactions each) and reports each
// one on `ack` once its last commit returned.
[[noreturn]] void WriteJobsInChild(const std::string& dir, int ack, int limit,
                                   int block_fd) {
  StatusOr<std::unique_ptr<SqliteStateStore>> s = SqliteStateStore::Open(dir);
  if (!s.ok()) ::_exit(3);
  for (int i = 1; limit == 0 || i <= limit; ++i) {
    if (!WriteJob(s->get(), i).ok()) ::_exit(4);
    if (::write(ack, &i, sizeof(i)) != sizeof(i)) ::_exit(5);
  }
  // Between transactions until killed.
  char c;
  (void)!::read(block_fd, &c, 1);
  ::_exit(6);
}

// Forks a writer, reads `acks` acknowledgements, SIGKILLs it.
void KillWriterAfter(const std::string& dir, int acks, int limit) {
  int ack[2], block[2];
  ASSERT_EQ(::pipe(ack), 0);
  ASSERT_EQ(::pipe(block), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ack[0]);
    ::close(block[1]);
    WriteJobsInChild(dir, ack[1], limit, block[0]);
  }
  ::close(ack[1]);
  ::close(block[0]);
  for (int got = 0; got < acks;) {
    int i = 0;
    ASSERT_EQ(::read(ack[0], &i, sizeof(i)), static_cast<ssize_t>(sizeof(i)))
        << "the writer died before acknowledging " << acks << " jobs";
    got = i;
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ::close(ack[0]);
  ::close(block[1]);
}

// Job i is whole when it has its two events and its step.
void ExpectWholeJob(const StoredJob& job, int i) {
  EXPECT_EQ(job.id, "j-" + std::to_string(i));
  EXPECT_EQ(job.order, i);
  EXPECT_EQ(job.progress.state, proto::JOB_RUNNING) << job.id;
  EXPECT_EQ(job.events.size(), 2u) << job.id;
  EXPECT_EQ(job.history.size(), 1u) << job.id;
}

TEST_F(SqliteStateStoreTest, AWriterKilledBetweenTransactionsLosesNothing) {
  // The child commits 20 jobs, then waits; the kill lands between
  // transactions, and the kernel drops its lock.
  KillWriterAfter(dir_, 20, 20);
  std::unique_ptr<SqliteStateStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  StatusOr<StoredState> s = store->Load();
  ASSERT_THAT(s, IsOk());
  ASSERT_EQ(s->jobs.size(), 20u);
  for (int i = 1; i <= 20; ++i) ExpectWholeJob(s->jobs[i - 1], i);
}

TEST_F(SqliteStateStoreTest, AWriterKilledMidStreamKeepsEveryCommit) {
  // The child writes without pause; the kill lands wherever it is, perhaps
  // inside a transaction, which must then be gone as a whole.
  KillWriterAfter(dir_, 30, 0);
  std::unique_ptr<SqliteStateStore> store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  StatusOr<StoredState> s = store->Load();
  ASSERT_THAT(s, IsOk());
  ASSERT_GE(s->jobs.size(), 30u);
  // Every acknowledged job whole; after them, at most the one being
  // written, each of its transactions all there or not at all.
  for (std::size_t i = 0; i + 1 < s->jobs.size(); ++i) {
    ExpectWholeJob(s->jobs[i], static_cast<int>(i + 1));
  }
  const StoredJob& last = s->jobs.back();
  EXPECT_EQ(last.order, static_cast<std::int64_t>(s->jobs.size()));
  const bool created = last.events.size() == 1 &&
                       last.progress.state == proto::JOB_PENDING &&
                       last.history.empty();
  const bool running = last.events.size() == 2 &&
                       last.progress.state == proto::JOB_RUNNING &&
                       last.history.size() <= 1;
  EXPECT_TRUE(created || running)
      << last.id << ": " << last.events.size() << " events, "
      << last.history.size() << " steps";
  // The store still takes writes after the crash.
  EXPECT_THAT(WriteJob(store.get(), static_cast<int>(s->jobs.size()) + 1),
              IsOk());
}

}  // namespace
}  // namespace dstrain::coordinator
