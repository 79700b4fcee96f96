#pragma once
// Two-level hierarchical all-reduce over N nodes of g ranks:
//
//   1. intra-node reduce-scatter (ring of g): local rank l ends with the
//      node's sum of slice l, S/g bytes;
//   2. inter-node all-reduce of slice l among the N ranks with local index
//      l (ring of N), the g rings running at once, one per local index
//      (one per rail on rail-optimized fabrics);
//   3. intra-node all-gather (ring of g).
//
// With B_h the host-internal bandwidth per rank, B the node's network
// bandwidth (the g inter-node rings share it), α_h and α the latencies:
//
//   t = 2(g-1)·(α_h + S/(g·B_h)) + 2(N-1)·(α + S/(N·B))
//
// The inter-node latency term has N instead of N·g steps; the price is the
// intra-node phases, which a flat ring overlaps with the network.
//
// Sub-communicators (what the workers pass to Split(color, key)):
//   "intra_node": colour = node, key = local rank
//   "inter_node": colour = local rank, key = node
//
// O(N·g) time and memory.

#include <cstdint>
#include <vector>

#include "topology/plan/plan.h"
#include "topology/plan/schedule.h"

namespace dstrain::topology {

std::vector<SubCommunicator> HierarchicalCommunicators(int32_t nnodes,
                                                       int32_t ranks_per_node);

Schedule HierarchicalAllReduce(int32_t nnodes, int32_t ranks_per_node);

}  // namespace dstrain::topology
