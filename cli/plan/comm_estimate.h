#pragma once
// The predicted time of a step's collectives on a fabric: the topology
// planner's plan for the first `nodes` hosts of the cluster (name order, as
// a launcher hands them out) with `procs_per_node` ranks each, the cost
// model's fastest algorithm for each buffer size; a reduce-scatter or an
// all-gather costs half an all-reduce of the same buffer (the halves of a
// ring all-reduce). Pure apart from reading the cluster file; thread-safe.

#include <span>
#include <string>
#include <vector>

#include "common/sizing/step_collectives.h"
#include "common/status.h"

namespace dstrain::cli {

struct FabricTimes {
  std::string fabric;           // the cluster's name
  std::vector<double> seconds;  // per call, all of its `count`
};

StatusOr<FabricTimes> PredictCollectives(
    const std::string& cluster, int nodes, int procs_per_node,
    std::span<const sizing::CollectiveCall> calls);

}  // namespace dstrain::cli
