#pragma once
// The job files an agent hands its workers: the text the coordinator sent
// (the job as submitted, wherever it was submitted from), written to a
// private folder of this agent, so that workers never depend on the
// submitter's path existing on this node. One file per job attempt,
// removed when the attempt's workers have all exited; the folder goes
// with the object.
//
// Thread-safe.

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/status.h"

namespace dstrain::agent {

class JobFiles {
 public:
  // Makes a new folder (mode 0700) under $TMPDIR, or /tmp.
  static StatusOr<std::unique_ptr<JobFiles>> Create();
  ~JobFiles();
  JobFiles(const JobFiles&) = delete;
  JobFiles& operator=(const JobFiles&) = delete;

  const std::string& dir() const { return dir_; }

  // Writes `text` as the attempt's job file (mode 0600), replacing one of
  // the same attempt; returns its path.
  StatusOr<std::string> Write(const std::string& job_id, int attempt,
                              const std::string& text);
  // Removes the attempt's file; nothing when there is none.
  void Remove(const std::string& job_id, int attempt);

 private:
  explicit JobFiles(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(const std::string& job_id, int attempt) const;

  const std::string dir_;
  std::mutex mu_;
  std::set<std::string> files_;  // guarded by mu_
};

}  // namespace dstrain::agent
