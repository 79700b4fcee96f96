#pragma once
// What `dstrain launch` can tell about a job on the local node before any
// worker starts: a job that cannot run there fails at once with exit code
// 2 instead of failing on every rank; a doubtful one gets a warning.
// Pure functions; thread-safe.

#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::cli {

struct Preflight {
  Status fatal;                       // not OK: do not start
  std::vector<std::string> warnings;  // start, but say these
};

// `node` is the inventory of the node the ranks would run on.
Preflight CheckJobOnNode(const config::JobConfig& job,
                         const proto::NodeInventory& node);

}  // namespace dstrain::cli
