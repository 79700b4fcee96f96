#pragma once
// What `dstrain launch` can tell about a job before any worker starts: a
// job that cannot run fails at once instead of failing on every rank
// (exit code 2: the node lacks what the job asks for; 3: the model does
// not fit the device, as `dstrain plan` reports it); a doubtful one gets a
// warning. Pure functions; thread-safe.

#include <string>
#include <vector>

#include "cli/plan/job_plan.h"
#include "common/config/job_config.h"
#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::cli {

struct Preflight {
  Status fatal;                       // not OK: do not start
  bool does_not_fit = false;          // `fatal` is the memory verdict
  std::vector<std::string> warnings;  // start, but say these
};

// `node` is the inventory of the node the ranks would run on.
Preflight CheckJobOnNode(const config::JobConfig& job,
                         const proto::NodeInventory& node);

// The device a rank of `job` gets on `node` (its smallest GPU for device:
// cuda, its memory shared by the ranks for device: cpu), for `dstrain plan`
// and the memory check below.
DeviceChoice DeviceChoiceOf(const proto::NodeInventory& node);

// `dstrain plan`'s memory verdict for `job` on `nodes` nodes like `node`:
// FAILED_PRECONDITION with the verdict when it does not fit (does_not_fit
// set), naming `job_arg` (the job file as the user wrote it) in the `dstrain
// plan` command to run; a node whose size cannot be read passes with a
// warning.
Preflight CheckJobFits(const config::JobConfig& job,
                       const proto::NodeInventory& node, int nodes,
                       const std::string& job_arg = "JOB");

}  // namespace dstrain::cli
