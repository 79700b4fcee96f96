#pragma once
// From a validated job file to what the coordinator is sent, and the checks
// `dstrain launch` makes before it starts anything. Pure functions.

#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::cli {

// `source_path` and `run_dir` should be absolute: agents and workers run
// elsewhere and resolve nothing against the CLI's working directory.
proto::JobSpec MakeJobSpec(const config::JobConfig& job,
                           const std::string& yaml_text,
                           const std::string& source_path,
                           const std::vector<std::string>& overrides,
                           const std::string& run_dir);

// "runs/<name>" under `cwd`, or `run_dir_flag` made absolute when given.
std::string ResolveRunDir(const std::string& run_dir_flag,
                          const std::string& job_name, const std::string& cwd);

// The embedded coordinator has exactly one node (this one): a job that
// needs more can never start. INVALID_ARGUMENT naming nodes.min.
Status CheckEmbeddable(const config::JobConfig& job);

}  // namespace dstrain::cli
