#pragma once
// `dstrain plan`'s report of a JobPlan: aligned text for people, one JSON
// object for scripts (keys end in their unit: _bytes, _s). Pure functions;
// thread-safe.

#include <string>

#include "cli/plan/job_plan.h"

namespace dstrain::cli {

std::string PlanText(const JobPlan& plan);
std::string PlanJson(const JobPlan& plan);

// Where the operators' rule of thumb and the computed figure part, and
// why, in one sentence.
std::string RuleOfThumbNote(const JobPlan& plan);

}  // namespace dstrain::cli
