#pragma once
// The job's topology plan on the worker side (docs/topology.md, "How a job
// uses its plan"): the sub-communicators the coordinator's plan names,
// built with Communicator::Split right after the world communicator, and,
// for the hierarchical and torus algorithms, an all-reduce that goes
// through them.
//
// The agent hands each rank its part of the plan in two variables:
//   DSTRAIN_SUBCOMMS        name:colour:key per sub-communicator, ';'
//                           between them, the same names in the same order
//                           on every rank ("intra_node:1:0;inter_node:0:1")
//   DSTRAIN_GRAD_ALLREDUCE  "hierarchical" or "torus" when gradients go
//                           through the sub-communicators; empty otherwise
//
// PlanAllReduce(world, subs, algorithm) is a Communicator whose AllReduce
// is composed of the plan's levels, every other collective (and Split)
// going to `world` unchanged:
//   hierarchical: reduce-scatter in intra_node, all-reduce in inter_node,
//                 all-gather in intra_node;
//   torus:        reduce-scatter in intra_node (when the plan has it), then
//                 along the first torus dimension present (torus_x), all-
//                 reduce along the others (torus_y, torus_z), all-gather
//                 back in reverse order.
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

#include "common/status.h"
#include "worker/comm/communicator.h"

namespace dstrain::engine {

struct SubCommSpec {
  std::string name;
  int color = -1;  // < 0: this rank joins no group of it
  int key = 0;
};

// Parses DSTRAIN_SUBCOMMS; "" gives none. INVALID_ARGUMENT names the item.
StatusOr<std::vector<SubCommSpec>> ParseSubCommunicators(std::string_view text);

class PlanCommunicators {
 public:
  // Collective over `world`: one Split per spec, in order.
  static StatusOr<PlanCommunicators> Build(
      comm::Communicator& world, const std::vector<SubCommSpec>& specs);

  // nullptr when the plan has no such sub-communicator or this rank is in
  // none of its groups.
  comm::Communicator* Find(std::string_view name) const;
  bool empty() const { return subs_.empty(); }

  // Collective over every sub-communicator: one line per sub-communicator
  // with the world ranks of this rank's group in group order, learnt by an
  // all-gather through the group itself (so it shows what Split built):
  //   "sub-communicator inter_node: group of 2, world ranks [0, 2]"
  StatusOr<std::vector<std::string>> Describe(int world_rank) const;

 private:
  std::vector<std::pair<std::string, std::unique_ptr<comm::Communicator>>>
      subs_;
};

// INVALID_ARGUMENT for an unknown algorithm or a plan that lacks the
// sub-communicators it needs.
StatusOr<std::unique_ptr<comm::Communicator>> PlanAllReduce(
    comm::Communicator& world, const PlanCommunicators& subs,
    std::string_view algorithm);

// What a training run holds: the plan's sub-communicators and, when the
// plan routes the gradient all-reduce through them, the composed
// communicator. Training() is what the engine uses: the composed one, or
// `world` itself. Movable; `world` must outlive it.
struct RankPlanComms {
  PlanCommunicators subs;
  std::unique_ptr<comm::Communicator> composed;

  comm::Communicator& Training(comm::Communicator& world) {
    return composed != nullptr ? *composed : world;
  }
};

// From the agent's variables (RankContext::sub_communicators and
// grad_allreduce): parses, splits, and prints on stdout one line per
// sub-communicator on every rank ("plan: sub-communicator intra_node: group
// of 2, world ranks [0, 1]") and, on rank 0, how gradients are reduced.
// Nothing happens (and nothing is printed) when both are empty. Collective
// over `world`.
StatusOr<RankPlanComms> SetUpPlanCommunicators(comm::Communicator& world,
                                               std::string_view subcomms,
                                               std::string_view grad_allreduce);

}  // namespace dstrain::engine
