#pragma once
// Ring collectives over ranks 0..n-1 in rank order (the placement makes
// the order; rank n-1 sends to rank 0). Every step, each rank sends one
// chunk of S/n to its successor, so all steps carry the same pattern:
//
//   all-reduce      2(n-1) steps   t = 2(n-1)·α + 2(n-1)/n · S·β
//   reduce-scatter   (n-1) steps   t =  (n-1)·α +  (n-1)/n · S·β
//   all-gather       (n-1) steps   t =  (n-1)·α +  (n-1)/n · S·β
//
// (α: per-step latency, β: seconds per byte of the slowest hop; Thakur,
// Rabenseifner, Gropp 2005.) The bandwidth term is optimal; the latency
// term grows with n, which is why large jobs use trees or hierarchies for
// small messages. For all-gather S is the gathered (output) size.
//
// Builders are O(n) time and memory.

#include <cstdint>

#include "topology/plan/schedule.h"

namespace dstrain::topology {

Schedule RingAllReduce(int32_t nranks, int32_t ranks_per_node);
Schedule RingReduceScatter(int32_t nranks, int32_t ranks_per_node);
Schedule RingAllGather(int32_t nranks, int32_t ranks_per_node);

}  // namespace dstrain::topology
