#pragma once
// A run directory's metrics.jsonl: one JSON line per optimizer step, for
// the steps that produced the current model and no others.
//
// Nothing is touched until the run's first step arrives, so a launch that
// fails before training leaves the previous run's file as it was. A step
// that is not after the last one written (the first step of a resumed run,
// or of a restarted attempt, going back to its checkpoint) replaces the
// history from that step on: the file is rewritten atomically (a temporary
// file renamed over it) with the earlier rows kept, and the rows it
// replaces are appended to metrics.superseded.jsonl beside it for whoever
// wants to see the work a failure cost. Later steps are appended and
// flushed one line at a time, so `tail -f` works.
//
// Not thread-safe: one launch owns it.

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace dstrain::cli {

class MetricsLog {
 public:
  // `path`: the run's metrics.jsonl (it may exist from an earlier run).
  explicit MetricsLog(std::string path);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  // Records `line` (one JSON object without the newline) as step `step`.
  Status Add(int step, const std::string& line);

  // Whether this run has written any step.
  bool wrote_any() const { return file_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string superseded_path() const;

 private:
  // Rewrites the file with the rows before `step` (reading it the first
  // time), moving the later ones to the superseded file, and leaves it
  // open for appending.
  Status Rewind(int step);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<std::pair<int, std::string>> rows_;  // what the file holds
};

// The "step" of a metrics line; -1 when it has none.
int StepOfMetricsLine(const std::string& line);

}  // namespace dstrain::cli
