#pragma once
// The torus all-reduce as the workers run it: the parts of
// common/contract/torus_parts.h — the description the planner simulates —
// each through its own sub-communicators, all parts at once.
//
// A part is a chain of collectives on its communicators: reduce-scatter
// inside the host (when hosts have several ranks), reduce-scatter along
// each dimension of its order, all-gather back in reverse. The chains run
// as a software pipeline: in round t, part k issues step t - k of its
// chain (asynchronously; each communicator has its own channel, so the
// backend runs them side by side — gloo on each group's threads), then the
// round waits for all it issued. Part k is k steps behind part 0, so one
// part works inside the host while others are on the network links. Every
// rank issues the same collectives in the same order, which keeps NCCL's
// ordering rule; but NCCL puts them all on the current stream, where they
// run one after another (correct, not concurrent: a stream per part is not
// built).
//
// A part's length need not divide by a level's size: it is padded with
// zeros for that level (cut again on the way back); parts may be empty
// (a tensor shorter than the part count). kSum, kMax and kMin compose level
// by level; kAvg is a sum divided by the world size at the end. The result
// equals the flat all-reduce up to floating-point summation order.
//
// Threads: one caller at a time, as Communicator.

#include <ATen/core/Tensor.h>

#include <vector>

#include "common/status.h"
#include "worker/comm/communicator.h"

namespace dstrain::comm {

class PlanCommunicators;

// One part's communicators: its host level (nullptr with one rank per
// host) and its dimensions in reduce-scatter order.
struct TorusPartComms {
  Communicator* local = nullptr;
  std::vector<Communicator*> levels;
};

// The parts from the plan's sub-communicators (the torus's extents are
// their group sizes; `world_size` / their product is the ranks per host).
// INVALID_ARGUMENT naming the first sub-communicator the description needs
// and this rank's plan lacks.
StatusOr<std::vector<TorusPartComms>> FindTorusParts(
    const PlanCommunicators& subs, int world_size);

// In place on the 1-D contiguous `flat`.
Status TorusPartsAllReduce(const std::vector<TorusPartComms>& parts,
                           at::Tensor& flat, ReduceOp op, int world_size);

}  // namespace dstrain::comm
