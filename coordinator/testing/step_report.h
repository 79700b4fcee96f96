#pragma once
// For JobManager tests: one rank's step metrics added to a report as an
// agent sends it (the report's job and attempt set too), for the test to
// fill in the numbers it is about.

#include <string>

#include "dstrain.pb.h"

namespace dstrain::coordinator {

inline proto::StepMetrics* AddStep(proto::ReportMetricsRequest& r,
                                   const std::string& job, int attempt,
                                   int rank, int step) {
  r.set_job_id(job);
  r.set_attempt(attempt);
  proto::StepMetrics* m = r.add_metrics();
  m->set_job_id(job);
  m->set_rank(rank);
  m->set_attempt(attempt);
  m->set_step(step);
  return m;
}

}  // namespace dstrain::coordinator
