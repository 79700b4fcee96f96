#pragma once
// The job's topology plan on the worker side (docs/topology.md, "How a job
// uses its plan"): the sub-communicators the coordinator's plan names,
// built with Communicator::Split right after the world communicator, and
// an all-reduce that goes through them for the sizes where the plan chose
// the hierarchical or torus algorithm.
//
// The agent hands each rank its part of the plan (common/contract/
// worker_env.h): the sub-communicators with this rank's colour and key in
// each, the same names in the same order on every rank, and the all-reduce
// route by size (common/contract/grad_routes.h): "hierarchical" or "torus"
// for every size, or a table when the cost model's choice changes with the
// size (topology.algorithm auto); empty when every size goes over the world.
//
// PlanAllReduce(world, subs, routes) is a Communicator whose AllReduce of a
// tensor of B bytes takes the route the table gives for B: "world" is the
// world communicator's own (its ring or tree, in the planned rank order);
// the composed ones go through the plan's levels. Every other collective
// (and Split) goes to `world` unchanged. The composed all-reduces:
//   hierarchical: reduce-scatter in intra_node, all-reduce in inter_node,
//                 all-gather in intra_node;
//   torus:        the parts of common/contract/torus_parts.h, each through
//                 its own torus_p<k>_* sub-communicators, all at once
//                 (torus_parts_allreduce.h).
// A tensor whose length does not divide by a level's size is padded with
// zeros for that level (sliced off again on the way back). kSum, kMax and
// kMin compose level by level; kAvg is a sum divided by the world size at
// the end. The result equals the flat all-reduce up to floating-point
// summation order (the tests hold fp32 to 1e-6 relative). The composed
// all-reduce runs to completion inside AllReduce (the Work it returns is
// already done): the plan trades overlap for fewer, better-placed bytes.
//
// Threads: as Communicator (one caller at a time). The sub-communicators
// and `world` must outlive the PlanAllReduce made over them.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/contract/grad_routes.h"
#include "common/contract/worker_env.h"
#include "common/status.h"
#include "worker/comm/communicator.h"

namespace dstrain::comm {

class PlanCommunicators {
 public:
  // Collective over `world`: one Split per spec, in order.
  static StatusOr<PlanCommunicators> Build(
      Communicator& world, const std::vector<contract::SubCommunicator>& specs);

  // nullptr when the plan has no such sub-communicator or this rank is in
  // none of its groups.
  Communicator* Find(std::string_view name) const;
  bool empty() const { return subs_.empty(); }

  // Collective over every sub-communicator: one line per sub-communicator
  // with the world ranks of this rank's group in group order, learnt by an
  // all-gather through the group itself (so it shows what Split built):
  //   "sub-communicator inter_node: group of 2, world ranks [0, 2]"
  StatusOr<std::vector<std::string>> Describe(int world_rank) const;

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Communicator>>> subs_;
};

// nullptr when every size goes over the world (use `world` itself);
// INVALID_ARGUMENT for a plan that lacks the sub-communicators a route
// needs.
StatusOr<std::unique_ptr<Communicator>> PlanAllReduce(
    Communicator& world, const PlanCommunicators& subs,
    const std::vector<GradRoute>& routes);

// What a training run holds: the plan's sub-communicators and, when the
// plan routes the gradient all-reduce through them, the composed
// communicator. Training() is what the engine uses: the composed one, or
// `world` itself. Movable; `world` must outlive it.
struct RankPlanComms {
  PlanCommunicators subs;
  std::unique_ptr<Communicator> composed;

  Communicator& Training(Communicator& world) {
    return composed != nullptr ? *composed : world;
  }
};

// From the rank's part of the plan (base::RankContext::sub_communicators
// and grad_routes): splits, and prints on stdout one line per
// sub-communicator on every rank ("plan: sub-communicator intra_node: group
// of 2, world ranks [0, 1]") and, on rank 0, how gradients are reduced
// ("plan: gradients all-reduced by size: hierarchical below 37.0 MiB, world
// from 37.0 MiB (world: gloo's own all-reduce)").
// Nothing happens (and nothing is printed) when both are empty. Collective
// over `world`.
StatusOr<RankPlanComms> SetUpPlanCommunicators(
    Communicator& world, const std::vector<contract::SubCommunicator>& subs,
    const std::vector<GradRoute>& routes);

}  // namespace dstrain::comm
