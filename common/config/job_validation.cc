#include "common/config/job_validation.h"

#include "common/config/job_checks.h"
#include "common/config/job_origins.h"

namespace dstrain::config {

Status ValidateJob(const JobConfig& job) {
  const internal::Origins none;
  DSTRAIN_RETURN_IF_ERROR(internal::CheckCombinations(job, none));
  return internal::RefuseUnbuiltFeatures(job, none);
}

}  // namespace dstrain::config
