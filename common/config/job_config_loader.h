#pragma once
// Loads and validates a job file (configs/README.md), strictly: an unknown key,
// a wrong type, an out-of-range value, a missing required field, an impossible
// combination or a feature this build lacks is an error whose one-line message
// names the place (file as the caller spelt it, 1-based line:column), e.g.
//   unknown key `lerning_rate` at job.yaml:12:5; did you mean `lr`?
//   `train.steps` at job.yaml:9:10: expected an integer, got `abc`
//   `train.steps` = 0 at job.yaml:9:10 is out of range: must be >= 1
//   missing required key `data.path` in job.yaml
//   `model.heads` = 3 at job.yaml:7:30 must divide `model.d_model` = 128 at
//       job.yaml:7:18   (or "= 128 (default)")
//   `zero.stage` = 3 at job.yaml:20:9 is not supported by this build yet
//       (supported: 0)
//   --set `train.stepz=5`: unknown key `stepz`; did you mean `steps`?
// The first problem found is reported (document order, then required keys,
// combinations, unbuilt features, paths). configs/README.md lists the keys
// and common/config/testdata/bad/ one file per kind of error. Nothing is
// partially applied: either a whole valid JobConfig comes back or an
// INVALID_ARGUMENT status. Thread-safe: no shared mutable state.

#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/status.h"

namespace dstrain::config {

// Reads `path`; relative paths in the job (`data.path`, `topology.cluster`)
// resolve against its folder and come back absolute, and must exist.
// JobConfig::source_path is the absolute path of the file.
// `overrides` are `dotted.key=value` strings (the CLI's `--set`), applied to
// the document before validation; an error in one names the override.
StatusOr<JobConfig> LoadJobFile(const std::string& path,
                                const std::vector<std::string>& overrides = {});

// Parses YAML text; `source_path` is used in messages and to resolve
// relative paths (its folder), and is stored in JobConfig::source_path.
StatusOr<JobConfig> ParseJobYaml(
    const std::string& yaml_text, const std::string& source_path,
    const std::vector<std::string>& overrides = {});

// Every key path the schema knows (e.g. "train.optimizer.lr"), for
// suggestions and documentation checks.
const std::vector<std::string>& KnownJobKeys();

}  // namespace dstrain::config
