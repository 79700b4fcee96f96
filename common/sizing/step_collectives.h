#pragma once
// The collectives one training step issues per rank, by ZeRO stage, as the
// engine issues them (worker/zero/zero_engine.h), with G micro-batches per
// step (train.grad_accum), each unit's buffer padded to a multiple of W
// and p bytes per element of the compute dtype:
//   stage 0  one all-reduce of every gradient (p·P bytes)
//   stage 1  per unit: a reduce-scatter of its gradient, and an all-gather
//            of its parameters after the optimizer step
//   stage 2  per unit: G reduce-scatters (one per micro-batch), one
//            all-gather after the step
//   stage 3  per micro-batch and unit: an all-gather before its forward,
//            another before its backward (not for the root unit, which
//            stays gathered, nor with reshard_after_forward off) and a
//            reduce-scatter of its gradient
// Pure functions; thread-safe.

#include <cstdint>
#include <span>
#include <vector>

namespace dstrain::sizing {

enum class CollectiveKind { kAllReduce, kAllGather, kReduceScatter };

// "all-reduce", "all-gather", "reduce-scatter".
const char* CollectiveName(CollectiveKind kind);

struct CollectiveCall {
  CollectiveKind kind = CollectiveKind::kAllReduce;
  std::int64_t bytes = 0;  // the whole buffer (a gathered unit, all grads)
  std::int64_t count = 0;  // times per step
};

struct StepCollectiveOptions {
  int stage = 0;
  int world = 1;
  int param_bytes = 4;
  int grad_accum = 1;
  bool reshard_after_forward = true;
};

// One entry per distinct (kind, size); units of equal size are merged.
// unit_numels[0] is the root unit.
std::vector<CollectiveCall> StepCollectives(
    std::span<const std::int64_t> unit_numels,
    const StepCollectiveOptions& options);

// Bytes one rank sends for a call with ring algorithms: 2(W-1)/W of the
// buffer for an all-reduce, (W-1)/W for the others; 0 on one rank.
double SentBytesPerRank(const CollectiveCall& call, int world);

}  // namespace dstrain::sizing
