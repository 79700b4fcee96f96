#pragma once
// Whether a JobConfig is one the engine can run: the checks the job loader
// makes after parsing (ranges of every field, combinations) but its advice
// to job files (job_checks.h, CheckJobFilePolicy), for jobs built in code
// rather than read from a file (tests, tools). The
// training engine calls it instead of keeping rules of its own, so a rule
// lives in one place. Returns the first problem as INVALID_ARGUMENT with
// the loader's message, places shown as "(default)" since there is no file.
// Pure; thread-safe.

#include "common/config/job_config.h"
#include "common/status.h"

namespace dstrain::config {

Status ValidateJob(const JobConfig& job);

}  // namespace dstrain::config
