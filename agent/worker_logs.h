#pragma once
// Where an agent keeps its workers' output, for `dstrain logs`: one file
// per (job, attempt, rank) under `dir` — <dir>/<job>/a<attempt>/rank-<r>.log
// — one line each, "<time µs> <o|e> <text>". Lines are numbered from 0 per
// rank; a reader asks from a number on (or for the last `tail`) and gets
// the number to go on from, so following a rank is polling with it.
//
// Capped: a rank's file that reaches `max_file_bytes` becomes
// rank-<r>.log.1 (the one before is dropped) and a new one starts, so a
// rank keeps at most twice that; when all jobs together exceed
// `max_total_bytes`, the oldest other jobs' folders go first. Reads of
// lines already dropped start at the oldest kept and count the rest as
// dropped.
//
// Only what this process wrote is indexed. Thread-
// safe: one lock; appends are one write(2) each, so a reader sees whole
// lines at once.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::agent {

struct WorkerLogsOptions {
  // A folder of this store's own: Open empties it (what an earlier agent
  // process left there; its workers died with it).
  std::string dir;
  bool remove_at_close = false;  // a temporary folder: gone with the store
  std::int64_t max_file_bytes = 8 << 20;
  std::int64_t max_total_bytes = std::int64_t{1} << 30;
  int max_lines_per_read = 10000;
};

class WorkerLogs {
 public:
  // Creates `dir`, or empties it.
  static StatusOr<std::unique_ptr<WorkerLogs>> Open(WorkerLogsOptions options);
  ~WorkerLogs();

  void Append(const std::string& job_id, int attempt, int rank,
              bool from_stderr, const std::string& text,
              std::int64_t time_unix_us);

  // The lines `request` asks for (ranks this agent never saw for that
  // attempt have none). NOT_FOUND when the job's attempt left nothing here.
  StatusOr<proto::ReadLogsResponse> Read(
      const proto::ReadLogsRequest& request) const;

  // Bytes kept on disk now (for tests and the cap).
  std::int64_t total_bytes() const;

 private:
  struct RankLog {
    std::string path;  // rank-<r>.log; rotated: path + ".1"
    int fd = -1;
    std::int64_t bytes = 0;  // in the current file
    std::int64_t rotated_bytes = 0;
    std::int64_t first_line = 0;     // number of the oldest kept line
    std::int64_t current_first = 0;  // number of the current file's first
    std::int64_t next_line = 0;
  };
  struct JobLogs {
    std::int64_t order = 0;  // first seen
    std::string folder;
    std::map<std::pair<int, int>, RankLog> ranks;  // (attempt, rank)
    std::int64_t bytes = 0;
  };

  explicit WorkerLogs(WorkerLogsOptions options);
  void Rotate(JobLogs& job, RankLog& log);
  void EnforceTotal(const std::string& keep);
  static void CloseAll(JobLogs& job);

  const WorkerLogsOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, JobLogs> jobs_;  // guarded by mu_
  std::int64_t total_ = 0;               // guarded by mu_
  std::int64_t next_order_ = 0;          // guarded by mu_
};

}  // namespace dstrain::agent
