#pragma once
// One line of `dstrain nodes` per registered node, in registration order:
// its state ("alive", "drained", "awaiting" or "lost"), heartbeat age,
// inventory, the job it runs and its drain reason. For ListNodes and the
// HTTP views; reads both managers, each under its own lock.

#include <vector>

#include "coordinator/job_manager.h"
#include "coordinator/node_manager.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

std::vector<proto::NodeStatus> NodeStatuses(const NodeManager& nodes,
                                            const JobManager& jobs);

}  // namespace dstrain::coordinator
