#pragma once
// Loads and validates a job file (DESIGN §4), strictly: an unknown key, a
// wrong type, an out-of-range value, a missing required field or an
// impossible combination is an error whose one-line message names the
// place, e.g.
//   unknown key `lerning_rate` at job.yaml:12:5; did you mean `lr`?
//   `model.heads` = 3 must divide `model.d_model` = 128 at job.yaml:7:40
// Nothing is partially applied: either a whole valid JobConfig comes back or
// an INVALID_ARGUMENT status.

#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/status.h"

namespace dstrain::config {

// Reads `path`; relative paths in the job resolve against its folder.
// `overrides` are `dotted.key=value` strings (the CLI's `--set`), applied to
// the document before validation; an error in one names the override.
StatusOr<JobConfig> LoadJobFile(const std::string& path,
                                const std::vector<std::string>& overrides = {});

// Parses YAML text; `source_path` is used in messages and to resolve
// relative paths (its folder), and is stored in JobConfig::source_path.
StatusOr<JobConfig> ParseJobYaml(const std::string& yaml_text,
                                 const std::string& source_path,
                                 const std::vector<std::string>& overrides = {});

// Every key path the schema knows (e.g. "train.optimizer.lr"), for
// suggestions and documentation checks.
const std::vector<std::string>& KnownJobKeys();

}  // namespace dstrain::config
