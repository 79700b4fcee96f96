#pragma once
// Validators for plans: one function per property, called by
// the tests and by the coordinator before it starts a job. Each returns OK
// or INVALID_ARGUMENT naming the first offender (NOT_FOUND for a missing
// route). Pure functions; thread-safe.

#include <cstdint>
#include <span>

#include "common/status.h"
#include "topology/model/cluster.h"
#include "topology/plan/plan.h"
#include "topology/plan/schedule.h"
#include "topology/sim/router.h"
#include "topology/sim/simulator.h"

namespace dstrain::topology {

// `order` holds every rank 0..n-1 exactly once (n = order.size()). O(n).
Status ValidateRankOrder(std::span<const int32_t> order);

// `comm` partitions ranks 0..world-1: colour and key lists are `world`
// long, every rank has a colour >= 0 (it joins exactly one group), and keys
// are distinct within a colour (Split's order is the one intended). O(n).
Status ValidateSubCommunicator(const SubCommunicator& comm, int32_t world);

// Structure: ranks inside 0..nranks-1, no self transfer, fractions finite
// and in (0, 1] for a step (0, 2] for a pipelined phase's whole
// operation), steps >= 1, pipelined phases with hops >= 0. O(T).
Status ValidateSchedule(const Schedule& schedule);

// Every transfer between two hosts has a path in the fabric: the router's
// hops start at the sender's host, follow existing links end to end, and
// reach the receiver's host. Each host pair is checked once. O(T · h).
Status ValidateScheduleRoutes(const Cluster& cluster, const Router& router,
                              const RankMap& ranks, const Schedule& schedule);

// A whole plan: ranks laid out as rank_layout.h says over hosts of the
// cluster, each host at most once, no host running more ranks than it has
// devices (when it declares any); every sub-communicator a partition;
// algorithm ranges contiguous from 0; and, per algorithm in the ranges, its
// schedule valid and (with `check_routes`) routable. O(n log n + T · h).
// BuildPlan skips the routes of the algorithms it has just simulated (the
// simulation routed every transfer); the coordinator checks everything.
Status ValidatePlan(const Cluster& cluster, const Plan& plan,
                    bool check_routes = true);

}  // namespace dstrain::topology
