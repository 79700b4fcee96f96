#include "coordinator/state/sqlite_state_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>
#include <utility>

namespace dstrain::coordinator {
namespace {

// kMigrations[v] takes a database from schema version v to v + 1. Each runs
// in one transaction together with the version bump (PRAGMA user_version,
// which lives in the database header and so commits or rolls back with
// it): a database is always at some version, never between two. Released
// entries never change; a new schema is a new entry.
//
// Version 1: jobs (the spec and the state-machine columns), their events,
// their rank assignments, rank 0's steps, results and exits by attempt,
// nodes. Protos are stored serialised (BLOB); what a person would query —
// states, reasons, times — in columns. States are proto::JobState numbers.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  ord INTEGER NOT NULL UNIQUE,
  spec BLOB NOT NULL,
  state INTEGER NOT NULL,
  reason TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  world_size INTEGER NOT NULL,
  restart_reason TEXT NOT NULL,
  submitted_us INTEGER NOT NULL,
  started_us INTEGER NOT NULL,
  ended_us INTEGER NOT NULL
);
CREATE TABLE job_events (
  seq INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  time_us INTEGER NOT NULL,
  from_state INTEGER NOT NULL,
  to_state INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  cause TEXT NOT NULL
);
CREATE INDEX job_events_by_job ON job_events(job_id, seq);
CREATE TABLE job_ranks (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  rank INTEGER NOT NULL,
  assignment BLOB NOT NULL,
  PRIMARY KEY (job_id, rank)
) WITHOUT ROWID;
CREATE TABLE steps (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  step INTEGER NOT NULL,
  metrics BLOB NOT NULL,
  PRIMARY KEY (job_id, step)
) WITHOUT ROWID;
CREATE TABLE results (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  attempt INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  result BLOB NOT NULL,
  PRIMARY KEY (job_id, attempt, rank)
) WITHOUT ROWID;
CREATE TABLE exits (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  attempt INTEGER NOT NULL,
  rank INTEGER NOT NULL,
  exit BLOB NOT NULL,
  PRIMARY KEY (job_id, attempt, rank)
) WITHOUT ROWID;
CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  ord INTEGER NOT NULL UNIQUE,
  inventory BLOB NOT NULL,
  agent_address TEXT NOT NULL,
  registered_us INTEGER NOT NULL,
  lost INTEGER NOT NULL
);
PRAGMA application_id = 1685288050;
)sql",
    // Version 2: the SHA-256 of each job's current credential, so that a
    // restarted coordinator still knows its running workers; each node's
    // latest heartbeat time (written in batches); operators' drains.
    R"sql(
ALTER TABLE jobs ADD COLUMN credential_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN last_heartbeat_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN drained INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN drain_reason TEXT NOT NULL DEFAULT '';
)sql",
    // Version 3: cordons (a node whose failures repeat takes no job until
    // the time given).
    R"sql(
ALTER TABLE nodes ADD COLUMN cordoned_until_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN cordon_reason TEXT NOT NULL DEFAULT '';
)sql",
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));
static_assert(SqliteStateStore::kApplicationId == 1685288050,
              "version 1's migration writes the application_id literally");

// A serialised proto column.
struct Blob {
  std::string bytes;
};
template <typename Message>
Blob Serialized(const Message& m) {
  return Blob{m.SerializeAsString()};
}

// One prepared statement; binds by position from 1. Errors are read off the
// connection, so callers hold the store's lock.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void Bind(int i, std::int64_t v) {
    Check(sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v)));
  }
  void Bind(int i, int v) { Bind(i, static_cast<std::int64_t>(v)); }
  void Bind(int i, const std::string& text) {
    Check(sqlite3_bind_text(stmt_, i, text.data(),
                            static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  void Bind(int i, const Blob& blob) {
    Check(sqlite3_bind_blob(stmt_, i, blob.bytes.data(),
                            static_cast<int>(blob.bytes.size()),
                            SQLITE_TRANSIENT));
  }
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    if (rc_ != SQLITE_OK) return *this;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  // true: a row is ready; false: done.
  StatusOr<bool> Step() {
    if (rc_ != SQLITE_OK) return Error();
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    rc_ = rc;
    return Error();
  }
  // Steps to the end, for statements without rows.
  Status Run() {
    StatusOr<bool> row = Step();
    while (row.ok() && *row) row = Step();
    return row.ok() ? Status::Ok() : row.status();
  }

  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      sqlite3_column_bytes(stmt_, col));
  }
  std::string Bytes(int col) const {
    const void* p = sqlite3_column_blob(stmt_, col);
    return p == nullptr ? std::string()
                        : std::string(static_cast<const char*>(p),
                                      sqlite3_column_bytes(stmt_, col));
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
  }
  Status Error() const {
    return Status(StatusCode::kUnavailable, sqlite3_errmsg(db_));
  }

  sqlite3* const db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) {
    return Status::Ok();
  }
  Status s(StatusCode::kUnavailable,
           error != nullptr ? error : sqlite3_errmsg(db));
  sqlite3_free(error);
  return s;
}

// A one-row, one-column integer query.
StatusOr<std::int64_t> QueryInt(sqlite3* db, const char* sql) {
  Statement q(db, sql);
  DSTRAIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status(StatusCode::kUnavailable, "no row");
  return q.Int(0);
}

StatusOr<std::string> QueryText(sqlite3* db, const char* sql) {
  Statement q(db, sql);
  DSTRAIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status(StatusCode::kUnavailable, "no row");
  return q.Text(0);
}

Status UnknownJob(const std::string& id) {
  return NotFound("state store: no job `" + id + "`");
}

StatusOr<bool> Exists(sqlite3* db, const char* sql, const std::string& id) {
  Statement q(db, sql);
  q.BindAll(id);
  return q.Step();
}

StatusOr<bool> JobExists(sqlite3* db, const std::string& id) {
  return Exists(db, "SELECT 1 FROM jobs WHERE id = ?", id);
}

Status InsertEvent(sqlite3* db, const std::string& job_id,
                   const proto::JobEvent& e) {
  Statement q(db,
              "INSERT INTO job_events (job_id, time_us, from_state, to_state, "
              "attempt, cause) VALUES (?, ?, ?, ?, ?, ?)");
  q.BindAll(job_id, static_cast<std::int64_t>(e.time_unix_us()),
            static_cast<int>(e.from_state()), static_cast<int>(e.to_state()),
            e.attempt(), e.cause());
  return q.Run();
}

std::string Errno(int err) { return std::strerror(err); }

// The PID written in a held lock file, for the message; "" when unreadable.
std::string HolderPid(const std::string& lock_path) {
  const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[32] = {};
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  std::string pid;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    pid += buf[i];
  }
  return pid;
}

// Creates `dir` when absent, then takes the lock; returns its descriptor.
StatusOr<int> LockStateDir(const std::string& dir) {
  const std::string what = "state directory " + dir;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return FailedPrecondition("cannot create " + what + ": " + Errno(errno));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) {
    return FailedPrecondition(what + ": " + Errno(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return FailedPrecondition(what + " is not a directory");
  }
  const std::string lock_path = dir + "/lock";
  const int fd = ::open(lock_path.c_str(),
                        O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EACCES || err == EROFS || err == EPERM) {
      return FailedPrecondition(what + " is not writable: cannot open " +
                                lock_path + ": " + Errno(err));
    }
    return FailedPrecondition("cannot open " + lock_path + ": " + Errno(err));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      const std::string pid = HolderPid(lock_path);
      return FailedPrecondition(
          what + " is in use by another coordinator (" +
          (pid.empty() ? std::string("a process") : "pid " + pid) + " holds " +
          lock_path + ")");
    }
    return FailedPrecondition("cannot lock " + lock_path + ": " + Errno(err));
  }
  // The PID is for the message a second opener prints; the lock itself is
  // the flock, not the file's content.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    return FailedPrecondition(what + " is not writable: " + lock_path + ": " +
                              Errno(err));
  }
  return fd;
}

// Checks what `db` is and brings it to kLatestVersion.
Status CheckAndMigrate(sqlite3* db, const std::string& path) {
  const auto refuse = [&](const std::string& why) {
    return FailedPrecondition(path + " " + why);
  };
  // The first read of the file: a file that is not SQLite fails here.
  StatusOr<std::int64_t> tables =
      QueryInt(db, "SELECT count(*) FROM sqlite_master");
  if (!tables.ok()) {
    return refuse("cannot be read as a dstrain state database: " +
                  tables.status().message());
  }
  DSTRAIN_ASSIGN_OR_RETURN(std::int64_t app_id,
                           QueryInt(db, "PRAGMA application_id"));
  DSTRAIN_ASSIGN_OR_RETURN(std::int64_t version,
                           QueryInt(db, "PRAGMA user_version"));
  const bool fresh = *tables == 0 && app_id == 0 && version == 0;
  if (!fresh) {
    if (app_id != SqliteStateStore::kApplicationId) {
      return refuse(
          "is an SQLite database but not a dstrain state database "
          "(application_id " +
          std::to_string(app_id) + "); give --state a directory of its own");
    }
    if (version > kLatestVersion) {
      return refuse("has schema version " + std::to_string(version) +
                    ", written by a newer dstrain; this one reads versions "
                    "up to " +
                    std::to_string(kLatestVersion));
    }
    if (version < 1) {
      return refuse("has tables but schema version " + std::to_string(version) +
                    " (no dstrain version writes that)");
    }
  }
  // WAL: a commit appends to the log instead of rewriting pages in place,
  // so a crash mid-commit leaves the previous commit intact, and readers
  // (an operator's sqlite3) never block the coordinator's writes. Set
  // before the first table is made; it persists in the file.
  StatusOr<std::string> mode = QueryText(db, "PRAGMA journal_mode = WAL");
  if (!mode.ok() || *mode != "wal") {
    return refuse(
        "cannot be put in WAL mode: " +
        (mode.ok() ? "journal_mode is " + *mode : mode.status().message()));
  }
  for (int v = static_cast<int>(fresh ? 0 : version); v < kLatestVersion; ++v) {
    Status s = Exec(db, "BEGIN IMMEDIATE");
    if (s.ok()) s = Exec(db, kMigrations[v]);
    if (s.ok()) {
      s = Exec(db, "PRAGMA user_version = " + std::to_string(v + 1));
    }
    if (s.ok()) s = Exec(db, "COMMIT");
    if (!s.ok()) {
      if (sqlite3_get_autocommit(db) == 0) (void)Exec(db, "ROLLBACK");
      return refuse("could not be migrated from schema version " +
                    std::to_string(v) + " to " + std::to_string(v + 1) + ": " +
                    s.message());
    }
  }
  return Status::Ok();
}

template <typename Message>
Status Parse(const std::string& bytes, Message* m, const std::string& what) {
  if (!m->ParseFromString(bytes)) {
    return Status(StatusCode::kDataLoss,
                  "state store: " + what + " does not parse");
  }
  return Status::Ok();
}

}  // namespace

int SqliteStateStore::SchemaVersion() { return kLatestVersion; }

StatusOr<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(
    const std::string& dir_arg) {
  std::string dir = dir_arg;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return InvalidArgument("--state: the directory is empty");
  DSTRAIN_ASSIGN_OR_RETURN(int lock_fd, LockStateDir(dir));

  const std::string path = dir + "/state.db";
  sqlite3* db = nullptr;
  // SQLITE_OPEN_NOMUTEX: the store's own mutex serialises the connection.
  const int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  Status s;
  if (rc != SQLITE_OK) {
    s = FailedPrecondition(
        "cannot open " + path + ": " +
        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }
  if (s.ok()) s = CheckAndMigrate(db, path);
  // synchronous=FULL: in WAL mode, NORMAL syncs the log only at checkpoints,
  // so a commit outlives a crash of the coordinator but not of the machine
  // (power, kernel). The coordinator answers an RPC only after its write
  // returned, and a job it acknowledged must still exist after any crash,
  // so every commit syncs the log. That is one fsync per write, which is
  // why a ReportMetrics call's steps are one write.
  if (s.ok()) s = Exec(db, "PRAGMA synchronous = FULL");
  if (s.ok()) s = Exec(db, "PRAGMA foreign_keys = ON");
  if (!s.ok()) {
    sqlite3_close(db);
    ::close(lock_fd);
    if (s.code() == StatusCode::kUnavailable) {
      return FailedPrecondition(path + ": " + s.message());
    }
    return s;
  }
  return std::unique_ptr<SqliteStateStore>(
      new SqliteStateStore(std::move(dir), lock_fd, db));
}

SqliteStateStore::SqliteStateStore(std::string dir, int lock_fd, sqlite3* db)
    : dir_(std::move(dir)), lock_fd_(lock_fd), db_(db) {}

SqliteStateStore::~SqliteStateStore() {
  sqlite3_close(db_);
  ::close(lock_fd_);  // drops the flock
}

template <typename Body>
Status SqliteStateStore::Write(const std::string& what, Body&& body) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (in_batch_) {
    Status s = Exec(db_, "SAVEPOINT w");
    if (s.ok()) s = body();
    if (!s.ok()) (void)Exec(db_, "ROLLBACK TO w");
    (void)Exec(db_, "RELEASE w");
    if (s.ok() || s.code() != StatusCode::kUnavailable) return s;
    return Unavailable("state store " + dir_ + ": could not record " + what +
                       ": " + s.message());
  }
  Status s = Exec(db_, "BEGIN IMMEDIATE");
  if (s.ok()) s = body();
  if (s.ok()) s = Exec(db_, "COMMIT");
  if (s.ok()) return s;
  if (sqlite3_get_autocommit(db_) == 0) (void)Exec(db_, "ROLLBACK");
  if (s.code() != StatusCode::kUnavailable) return s;  // the caller's mistake
  return Unavailable("state store " + dir_ + ": could not record " + what +
                     ": " + s.message());
}

Status SqliteStateStore::CreateJob(const JobSubmission& job) {
  return Write("job " + job.id, [&]() -> Status {
    Statement dup(db_, "SELECT 1 FROM jobs WHERE id = ? OR ord = ?");
    dup.BindAll(job.id, job.order);
    DSTRAIN_ASSIGN_OR_RETURN(bool exists, dup.Step());
    if (exists) {
      return Status(StatusCode::kAlreadyExists,
                    "state store: job `" + job.id + "` or order " +
                        std::to_string(job.order) + " is already recorded");
    }
    const JobProgress p;
    Statement q(db_,
                "INSERT INTO jobs (id, ord, spec, state, reason, attempt, "
                "world_size, restart_reason, submitted_us, started_us, "
                "ended_us, credential_sha256) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.BindAll(job.id, job.order, Serialized(job.spec),
              static_cast<int>(p.state), p.reason, p.attempt, p.world_size,
              p.restart_reason, job.submitted_us, p.started_us, p.ended_us,
              p.credential_sha256);
    DSTRAIN_RETURN_IF_ERROR(q.Run());
    return InsertEvent(db_, job.id, job.event);
  });
}

Status SqliteStateStore::UpdateJob(const JobChange& change) {
  return Write("a change of job " + change.job_id, [&]() -> Status {
    const JobProgress& p = change.progress;
    Statement q(db_,
                "UPDATE jobs SET state = ?, reason = ?, attempt = ?, "
                "world_size = ?, restart_reason = ?, started_us = ?, "
                "ended_us = ?, credential_sha256 = ? WHERE id = ?");
    q.BindAll(static_cast<int>(p.state), p.reason, p.attempt, p.world_size,
              p.restart_reason, p.started_us, p.ended_us, p.credential_sha256,
              change.job_id);
    DSTRAIN_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) return UnknownJob(change.job_id);
    DSTRAIN_RETURN_IF_ERROR(InsertEvent(db_, change.job_id, change.event));
    if (!change.ranks.has_value()) return Status::Ok();
    Statement clear(db_, "DELETE FROM job_ranks WHERE job_id = ?");
    clear.BindAll(change.job_id);
    DSTRAIN_RETURN_IF_ERROR(clear.Run());
    Statement insert(db_,
                     "INSERT INTO job_ranks (job_id, rank, assignment) "
                     "VALUES (?, ?, ?)");
    for (const proto::RankAssignment& a : *change.ranks) {
      insert.BindAll(change.job_id, a.rank(), Serialized(a));
      DSTRAIN_RETURN_IF_ERROR(insert.Run());
    }
    return Status::Ok();
  });
}

Status SqliteStateStore::RecordMetrics(const MetricsBatch& batch) {
  std::string what = "metrics";
  if (!batch.steps.empty()) what += " of job " + batch.steps[0].job_id;
  return Write(what, [&]() -> Status {
    for (const StepsChange& c : batch.steps) {
      DSTRAIN_ASSIGN_OR_RETURN(bool exists, JobExists(db_, c.job_id));
      if (!exists) return UnknownJob(c.job_id);
    }
    if (!batch.results.empty()) {
      DSTRAIN_ASSIGN_OR_RETURN(bool exists,
                               JobExists(db_, batch.results_job_id));
      if (!exists) return UnknownJob(batch.results_job_id);
    }
    Statement drop_from(db_,
                        "DELETE FROM steps WHERE job_id = ? AND step >= ?");
    Statement insert(db_,
                     "INSERT OR REPLACE INTO steps (job_id, step, metrics) "
                     "VALUES (?, ?, ?)");
    Statement drop_before(db_,
                          "DELETE FROM steps WHERE job_id = ? AND step < ?");
    for (const StepsChange& c : batch.steps) {
      if (c.drop_from_step.has_value()) {
        drop_from.BindAll(c.job_id, *c.drop_from_step);
        DSTRAIN_RETURN_IF_ERROR(drop_from.Run());
      }
      for (const proto::StepMetrics& m : c.steps) {
        insert.BindAll(c.job_id, m.step(), Serialized(m));
        DSTRAIN_RETURN_IF_ERROR(insert.Run());
      }
      if (c.drop_before_step.has_value()) {
        drop_before.BindAll(c.job_id, *c.drop_before_step);
        DSTRAIN_RETURN_IF_ERROR(drop_before.Run());
      }
    }
    Statement result(db_,
                     "INSERT OR REPLACE INTO results (job_id, attempt, rank, "
                     "result) VALUES (?, ?, ?, ?)");
    for (const proto::RankResult& r : batch.results) {
      result.BindAll(batch.results_job_id, batch.results_attempt, r.rank(),
                     Serialized(r));
      DSTRAIN_RETURN_IF_ERROR(result.Run());
    }
    return Status::Ok();
  });
}

Status SqliteStateStore::RecordExit(const std::string& job_id, int attempt,
                                    const proto::WorkerExit& exit) {
  return Write("an exit of job " + job_id, [&]() -> Status {
    DSTRAIN_ASSIGN_OR_RETURN(bool exists, JobExists(db_, job_id));
    if (!exists) return UnknownJob(job_id);
    Statement q(db_,
                "INSERT OR IGNORE INTO exits (job_id, attempt, rank, exit) "
                "VALUES (?, ?, ?, ?)");
    q.BindAll(job_id, attempt, exit.rank(), Serialized(exit));
    return q.Run();
  });
}

Status SqliteStateStore::PutNode(const StoredNode& node) {
  return Write("node " + node.id, [&]() -> Status {
    Statement dup(db_, "SELECT 1 FROM nodes WHERE id = ? OR ord = ?");
    dup.BindAll(node.id, node.ordinal);
    DSTRAIN_ASSIGN_OR_RETURN(bool exists, dup.Step());
    if (exists) {
      return Status(StatusCode::kAlreadyExists,
                    "state store: node `" + node.id + "` or ordinal " +
                        std::to_string(node.ordinal) + " is already recorded");
    }
    Statement q(db_,
                "INSERT INTO nodes (id, ord, inventory, agent_address, "
                "registered_us, lost) VALUES (?, ?, ?, ?, ?, ?)");
    q.BindAll(node.id, node.ordinal, Serialized(node.inventory),
              node.agent_address, node.registered_us, node.lost ? 1 : 0);
    return q.Run();
  });
}

Status SqliteStateStore::UpdateNode(const StoredNode& node) {
  return Write("node " + node.id, [&]() -> Status {
    Statement q(db_,
                "UPDATE nodes SET inventory = ?, agent_address = ?, lost = ?, "
                "drained = ?, drain_reason = ?, cordoned_until_us = ?, "
                "cordon_reason = ? WHERE id = ?");
    q.BindAll(Serialized(node.inventory), node.agent_address, node.lost ? 1 : 0,
              node.drained ? 1 : 0, node.drain_reason, node.cordoned_until_us,
              node.cordon_reason, node.id);
    DSTRAIN_RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) {
      return NotFound("state store: no node `" + node.id + "`");
    }
    return Status::Ok();
  });
}

Status SqliteStateStore::Batch(const std::function<void()>& body) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (in_batch_) {  // nested: part of the outer batch
    body();
    return Status::Ok();
  }
  Status s = Exec(db_, "BEGIN IMMEDIATE");
  if (!s.ok()) {
    return Unavailable("state store " + dir_ + ": " + s.message());
  }
  in_batch_ = true;
  body();
  in_batch_ = false;
  s = Exec(db_, "COMMIT");
  if (s.ok()) return s;
  if (sqlite3_get_autocommit(db_) == 0) (void)Exec(db_, "ROLLBACK");
  return Unavailable("state store " + dir_ +
                     ": could not commit a batch: " + s.message());
}

Status SqliteStateStore::RecordHeartbeats(
    const std::vector<std::pair<std::string, std::int64_t>>& times) {
  return Write("heartbeats", [&]() -> Status {
    Statement q(db_, "UPDATE nodes SET last_heartbeat_us = ? WHERE id = ?");
    for (const auto& [id, us] : times) {
      q.BindAll(us, id);
      DSTRAIN_RETURN_IF_ERROR(q.Run());
    }
    return Status::Ok();
  });
}

Status SqliteStateStore::MarkNodesLost(
    const std::vector<std::string>& node_ids) {
  return Write("lost nodes", [&]() -> Status {
    Statement q(db_, "UPDATE nodes SET lost = 1 WHERE id = ?");
    for (const std::string& id : node_ids) {
      q.BindAll(id);
      DSTRAIN_RETURN_IF_ERROR(q.Run());
      if (sqlite3_changes(db_) == 0) {
        return NotFound("state store: no node `" + id + "`");
      }
    }
    return Status::Ok();
  });
}

StatusOr<StoredState> SqliteStateStore::Load() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  // One read transaction: every table as of the same commit.
  Status begun = Exec(db_, "BEGIN");
  if (!begun.ok()) {
    return Unavailable("state store " + dir_ + ": " + begun.message());
  }
  StoredState state;
  std::map<std::string, StoredJob*> by_id;
  const auto body = [&]() -> Status {
    Statement jobs(db_,
                   "SELECT id, ord, spec, state, reason, attempt, world_size, "
                   "restart_reason, submitted_us, started_us, ended_us, "
                   "credential_sha256 FROM jobs ORDER BY ord");
    while (true) {
      DSTRAIN_ASSIGN_OR_RETURN(bool row, jobs.Step());
      if (!row) break;
      StoredJob job;
      job.id = jobs.Text(0);
      job.order = jobs.Int(1);
      DSTRAIN_RETURN_IF_ERROR(
          Parse(jobs.Bytes(2), &job.spec, "the spec of job " + job.id));
      const std::int64_t s = jobs.Int(3);
      if (!proto::JobState_IsValid(static_cast<int>(s))) {
        return Status(
            StatusCode::kDataLoss,
            "state store: job " + job.id + " has state " + std::to_string(s));
      }
      job.progress.state = static_cast<proto::JobState>(s);
      job.progress.reason = jobs.Text(4);
      job.progress.attempt = static_cast<int>(jobs.Int(5));
      job.progress.world_size = static_cast<int>(jobs.Int(6));
      job.progress.restart_reason = jobs.Text(7);
      job.submitted_us = jobs.Int(8);
      job.progress.started_us = jobs.Int(9);
      job.progress.ended_us = jobs.Int(10);
      job.progress.credential_sha256 = jobs.Text(11);
      state.jobs.push_back(std::move(job));
    }
    for (StoredJob& job : state.jobs) by_id[job.id] = &job;
    // Rows of the other tables name a job by id (foreign keys hold).
    const auto each_row = [&](const char* sql, auto&& take) -> Status {
      Statement q(db_, sql);
      while (true) {
        DSTRAIN_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) return Status::Ok();
        auto it = by_id.find(q.Text(0));
        if (it == by_id.end()) continue;
        DSTRAIN_RETURN_IF_ERROR(take(q, it->second));
      }
    };
    DSTRAIN_RETURN_IF_ERROR(
        each_row("SELECT job_id, time_us, from_state, to_state, attempt, cause "
                 "FROM job_events ORDER BY seq",
                 [](const Statement& q, StoredJob* job) {
                   proto::JobEvent e;
                   e.set_time_unix_us(q.Int(1));
                   e.set_from_state(static_cast<proto::JobState>(q.Int(2)));
                   e.set_to_state(static_cast<proto::JobState>(q.Int(3)));
                   e.set_attempt(static_cast<int>(q.Int(4)));
                   e.set_cause(q.Text(5));
                   job->events.push_back(std::move(e));
                   return Status::Ok();
                 }));
    DSTRAIN_RETURN_IF_ERROR(each_row(
        "SELECT job_id, assignment FROM job_ranks ORDER BY job_id, rank",
        [](const Statement& q, StoredJob* job) {
          return Parse(q.Bytes(1), &job->ranks.emplace_back(),
                       "a rank of job " + job->id);
        }));
    DSTRAIN_RETURN_IF_ERROR(
        each_row("SELECT job_id, metrics FROM steps ORDER BY job_id, step",
                 [](const Statement& q, StoredJob* job) {
                   return Parse(q.Bytes(1), &job->history.emplace_back(),
                                "a step of job " + job->id);
                 }));
    DSTRAIN_RETURN_IF_ERROR(
        each_row("SELECT r.job_id, r.result FROM results r JOIN jobs j "
                 "ON r.job_id = j.id AND r.attempt = j.attempt "
                 "ORDER BY r.job_id, r.rank",
                 [](const Statement& q, StoredJob* job) {
                   return Parse(q.Bytes(1), &job->results.emplace_back(),
                                "a result of job " + job->id);
                 }));
    DSTRAIN_RETURN_IF_ERROR(
        each_row("SELECT x.job_id, x.exit FROM exits x JOIN jobs j "
                 "ON x.job_id = j.id AND x.attempt = j.attempt "
                 "ORDER BY x.job_id, x.rank",
                 [](const Statement& q, StoredJob* job) {
                   return Parse(q.Bytes(1), &job->exits.emplace_back(),
                                "an exit of job " + job->id);
                 }));
    Statement nodes(db_,
                    "SELECT id, ord, inventory, agent_address, registered_us, "
                    "lost, last_heartbeat_us, drained, drain_reason, "
                    "cordoned_until_us, cordon_reason FROM nodes ORDER BY ord");
    while (true) {
      DSTRAIN_ASSIGN_OR_RETURN(bool row, nodes.Step());
      if (!row) break;
      StoredNode node;
      node.id = nodes.Text(0);
      node.ordinal = nodes.Int(1);
      DSTRAIN_RETURN_IF_ERROR(Parse(nodes.Bytes(2), &node.inventory,
                                    "the inventory of node " + node.id));
      node.agent_address = nodes.Text(3);
      node.registered_us = nodes.Int(4);
      node.lost = nodes.Int(5) != 0;
      node.last_heartbeat_us = nodes.Int(6);
      node.drained = nodes.Int(7) != 0;
      node.drain_reason = nodes.Text(8);
      node.cordoned_until_us = nodes.Int(9);
      node.cordon_reason = nodes.Text(10);
      state.nodes.push_back(std::move(node));
    }
    return Status::Ok();
  };
  Status s = body();
  (void)Exec(db_, s.ok() ? "COMMIT" : "ROLLBACK");
  if (!s.ok()) {
    if (s.code() == StatusCode::kUnavailable) {
      return Unavailable("state store " + dir_ + ": " + s.message());
    }
    return s;
  }
  return state;
}

}  // namespace dstrain::coordinator
