#pragma once
// How a job's all-reduces are routed by message size: the coordinator
// turns the topology plan's algorithm-per-size table into this, the agent
// hands it to every rank (common/contract/worker_env.h), and the worker
// routes each all-reduce by its size in bytes
// (worker/comm/plan_communicators.h).
//
// A route is "world" (the backend's own all-reduce over the world
// communicator: Gloo's and NCCL's rings and trees, in the planned rank
// order), "hierarchical" or "torus" (composed through the plan's
// sub-communicators). The text form:
//   ""                                every size over the world
//   "hierarchical"                    every size hierarchical
//   "hierarchical@0,world@38797313"   hierarchical below 38797313 bytes,
//                                     the world's own from there on
// Entries are `<route>@<first byte count>`, the first at 0, counts strictly
// increasing, adjacent routes different. Pure functions; no torch.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dstrain {

struct GradRoute {
  std::int64_t min_bytes = 0;  // from this many bytes up to the next entry
  std::string via;             // "world", "hierarchical" or "torus"
  friend bool operator==(const GradRoute&, const GradRoute&) = default;
};

// The text form of `routes` (sorted by min_bytes, the first at 0): adjacent
// equal routes are merged, a table that is all "world" gives "", a single
// route gives its name.
std::string FormatGradRoutes(const std::vector<GradRoute>& routes);

// The text form back; "" gives one "world" route from 0. INVALID_ARGUMENT
// names the entry at fault.
StatusOr<std::vector<GradRoute>> ParseGradRoutes(std::string_view text);

// The route of an all-reduce of `bytes` bytes ("world" for an empty table).
const std::string& RouteFor(const std::vector<GradRoute>& routes,
                            std::int64_t bytes);

// For people: "hierarchical below 37.0 MiB, world from 37.0 MiB";
// "hierarchical" for a single route.
std::string DescribeGradRoutes(const std::vector<GradRoute>& routes);

}  // namespace dstrain
