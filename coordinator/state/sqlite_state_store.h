#pragma once
// A StateStore (state_store.h) in SQLite: `dstrain coordinator --state DIR`.
//
// Open(DIR):
//   - creates DIR (mode 0700) when it does not exist (its parent must);
//   - takes an exclusive flock on DIR/lock and writes its PID there. The
//     lock is held until the store is destroyed, and the kernel drops it
//     when the holder dies however it dies, so a crashed coordinator never
//     leaves DIR locked. A second opener — another coordinator, or this
//     process again — gets FAILED_PRECONDITION: "state directory DIR is in
//     use by another coordinator (pid N holds DIR/lock)";
//   - opens DIR/state.db in WAL mode, checks that it is a dstrain state
//     database (SQLite's application_id) of a schema version this build
//     knows, and migrates an older one forward. A file that is not an
//     SQLite database, an SQLite database of something else, one with
//     tables but no version, or one written by a newer dstrain is refused
//     with FAILED_PRECONDITION naming the file and what is wrong.
// Every failure of Open is one line and leaves no lock held.
//
// Writes: each call is one transaction (BEGIN IMMEDIATE ... COMMIT), and the
// commit is on disk when the call returns (synchronous=FULL, see the .cc).
// A write SQLite refuses (disk full, I/O error) is UNAVAILABLE naming DIR,
// and is rolled back. Load reads in one transaction; a record that does not
// parse is DATA_LOSS.
//
// While the coordinator runs, `sqlite3 DIR/state.db` may read the database
// (WAL readers do not block the writer); only the coordinator writes it.
//
// Batch (group commit): the writes of its body share one transaction and
// one sync, each in its own SAVEPOINT so that one failing leaves the rest.
//
// Thread-safe: mu_ serialises every call on the one connection and is a
// leaf.

#include <memory>
#include <mutex>
#include <string>

#include "coordinator/state/state_store.h"

struct sqlite3;

namespace dstrain::coordinator {

class SqliteStateStore : public StateStore {
 public:
  // The schema version this build writes; it reads every one up to it.
  static int SchemaVersion();
  // The value of SQLite's application_id that marks a dstrain state
  // database ("dstr").
  static constexpr int kApplicationId = 0x64737472;

  static StatusOr<std::unique_ptr<SqliteStateStore>> Open(
      const std::string& dir);

  ~SqliteStateStore() override;  // closes the database, then drops the lock
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  std::string Describe() const override { return dir_; }
  StatusOr<StoredState> Load() const override;
  Status CreateJob(const JobSubmission& job) override;
  Status UpdateJob(const JobChange& change) override;
  Status RecordMetrics(const MetricsBatch& batch) override;
  Status RecordExit(const std::string& job_id, int attempt,
                    const proto::WorkerExit& exit) override;
  Status PutNode(const StoredNode& node) override;
  Status UpdateNode(const StoredNode& node) override;
  Status MarkNodesLost(const std::vector<std::string>& node_ids) override;
  Status RecordHeartbeats(
      const std::vector<std::pair<std::string, std::int64_t>>& times) override;
  // One transaction around `body`'s writes, each in a SAVEPOINT of its own.
  Status Batch(const std::function<void()>& body) override;

 private:
  SqliteStateStore(std::string dir, int lock_fd, sqlite3* db);

  // Runs `body` in one write transaction under mu_: COMMIT when it returns
  // OK, ROLLBACK otherwise; inside a Batch on this thread, in a SAVEPOINT
  // released or rolled back to. `what` names the write in error messages.
  template <typename Body>
  Status Write(const std::string& what, Body&& body);

  const std::string dir_;
  const int lock_fd_;  // holds the flock on dir_/lock

  // Recursive: a Batch holds it while its body's writes take it again.
  mutable std::recursive_mutex mu_;
  sqlite3* const db_;      // guarded by mu_ (opened without SQLite's own mutex)
  bool in_batch_ = false;  // guarded by mu_
};

}  // namespace dstrain::coordinator
