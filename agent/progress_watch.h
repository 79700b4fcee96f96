#pragma once
// The agent's side of its workers' progress records
// (common/contract/progress_record.h): one folder per job attempt under a
// private root (in /dev/shm, memory only, when it can be written; else
// $TMPDIR or /tmp), one record per local rank, made before the workers
// start and read at every heartbeat together with each process's state in
// /proc (a rank stopped by SIGSTOP shows "stopped"), for the coordinator's
// hang detection. An attempt's folder goes when its workers are reaped;
// the root goes with the object.
//
// Thread-safe.

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/contract/progress_record.h"
#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::agent {

// <dir>/rank-<rank>.progress: the one name both sides use.
std::string ProgressFileOf(const std::string& dir, int rank);

// /proc/<pid>/stat's state letter as RankProgress.process names it
// ("running", "sleeping", "disk", "stopped", "zombie"; "" when unknown).
std::string ProcessStateName(char state);
// The letter for `pid`, read from /proc; '?' when it cannot be read.
char ReadProcessState(pid_t pid);

class ProgressWatch {
 public:
  static StatusOr<std::unique_ptr<ProgressWatch>> Create();
  ~ProgressWatch();
  ProgressWatch(const ProgressWatch&) = delete;
  ProgressWatch& operator=(const ProgressWatch&) = delete;

  const std::string& root() const { return root_; }

  // Makes the attempt's folder with an empty record per rank (replacing
  // an earlier one); returns the folder.
  StatusOr<std::string> Prepare(const std::string& job_id, int attempt,
                                const std::vector<int>& ranks);
  // The ranks' processes, as started: (rank, pid) pairs. Records that
  // cannot be mapped are left out, with a warning.
  void Attach(const std::string& job_id, int attempt,
              const std::vector<std::pair<int, pid_t>>& ranks);
  // Forgets the attempt and removes its folder.
  void Remove(const std::string& job_id, int attempt);

  // Every attached rank's record and process state.
  std::vector<proto::RankProgress> Snapshot() const;

 private:
  explicit ProgressWatch(std::string root) : root_(std::move(root)) {}
  std::string DirOf(const std::string& job_id, int attempt) const;

  struct Watched {
    pid_t pid = -1;
    std::unique_ptr<contract::ProgressReader> reader;
  };
  using Key = std::tuple<std::string, int, int>;  // job, attempt, rank

  const std::string root_;
  mutable std::mutex mu_;
  std::map<Key, Watched> ranks_;  // guarded by mu_
};

}  // namespace dstrain::agent
