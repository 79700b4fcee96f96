#pragma once
// What `dstrain launch` reports about a finished job: the numbers of the
// summary (first and final loss, mean of the last 10, mean tokens/s, wall
// time, per-rank results), as text for people and as JSON for
// <run dir>/summary.json and --json; plus the metrics.jsonl line of one
// step. Pure functions.

#include <optional>
#include <string>
#include <vector>

#include "dstrain.pb.h"

namespace dstrain::cli {

struct RunSummary {
  std::string job_name;
  std::string job_id;
  std::string slurm_job_id;  // the allocation it ran in, "" outside Slurm
  std::string state;         // "SUCCEEDED", "FAILED", "CANCELLED", ...
  std::string reason;        // why it failed or was cancelled
  int steps = 0;             // last step rank 0 reported
  int total_steps = 0;
  int world_size = 0;
  std::vector<double> losses;  // rank 0's, by step
  std::optional<double> first_loss;
  std::optional<double> final_loss;
  std::optional<double> mean_last10_loss;
  // Mean over the steps after the first (which carries start-up costs),
  // or the first's alone when it is the only one.
  std::optional<double> mean_tokens_per_s;
  double wall_time_s = 0;
  std::vector<proto::RankResult> results;  // by rank
  std::vector<proto::WorkerExit> exits;    // by rank
  std::string run_dir;
  std::string metrics_path;
  std::string summary_path;

  // True when every rank reported a result and all digests are equal.
  bool ParamDigestsAgree() const;
};

// `history`: rank 0's steps as collected while the job ran (in order).
RunSummary BuildSummary(const std::string& job_name,
                        const proto::JobStatus& final_status,
                        const std::vector<proto::StepMetrics>& history,
                        double wall_time_s);

const char* JobStateName(proto::JobState state);

std::string SummaryJson(const RunSummary& s);  // one object, no newline
std::string SummaryText(const RunSummary& s);  // several lines, ends in \n

// One metrics.jsonl line (no newline): every StepMetrics field by its
// proto name, numbers as JSON numbers.
std::string StepMetricsJson(const proto::StepMetrics& m);

}  // namespace dstrain::cli
