#pragma once
// Checks that need the whole job: values that are each fine alone but
// impossible together (job_checks.cc), and features this build does not
// have yet (unbuilt_features.cc). Both take a fully parsed JobConfig and the
// Origins of its values, and return the first problem as INVALID_ARGUMENT
// with a one-line message naming every place involved.

#include <vector>

#include "common/config/job_config.h"
#include "common/config/job_origins.h"
#include "common/status.h"

namespace dstrain::config::internal {

// Every impossible combination, in a fixed order (empty: none).
std::vector<Status> CombinationErrors(const JobConfig& job,
                                      const Origins& origins);
// The first of CombinationErrors, or OK.
Status CheckCombinations(const JobConfig& job, const Origins& origins);

// What a job file may not ask for although the engine could run it (fp16
// on a CPU): advice enforced at load time only, so ValidateJob, which holds
// jobs built in code to the engine's limits, leaves it out.
Status CheckJobFilePolicy(const JobConfig& job, const Origins& origins);

// Refuses, at load time, values whose feature is not built yet, so that a
// job never starts and then fails. Each issue that builds a feature deletes
// its line.
Status RefuseUnbuiltFeatures(const JobConfig& job, const Origins& origins);

}  // namespace dstrain::config::internal
