#pragma once
// Rabenseifner's all-reduce: a reduce-scatter by recursive halving, then an
// all-gather by recursive doubling (Thakur, Rabenseifner, Gropp 2005).
// With p = 2^k ranks, step j (0-based) pairs rank r with r XOR p/2^(j+1)
// and both send S/2^(j+1); the all-gather replays the steps in reverse.
//
//   t = 2·log2(p)·α + 2(p-1)/p · S·β            (p a power of two)
//
// For n not a power of two, with p the largest power of two below n and
// m = n - p: ranks 2i (i < m) first hand their whole buffer to 2i+1 and
// sit out; the other p ranks run the algorithm; 2i+1 sends the result back:
//
//   t = 2(log2(p) + 1)·α + (2(p-1)/p + 2) · S·β
//
// Latency is logarithmic like a tree's; the partners are far apart in rank
// order, so on a real fabric the late steps cross the top of the network.
//
// Schedule: O(n log n) transfers, one phase per distance (the reduce-scatter
// and all-gather steps at one distance carry the same pattern).

#include <cstdint>

#include "topology/plan/schedule.h"

namespace dstrain::topology {

Schedule RecursiveHalvingDoublingAllReduce(int32_t nranks,
                                           int32_t ranks_per_node);

}  // namespace dstrain::topology
