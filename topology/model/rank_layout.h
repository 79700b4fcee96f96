#pragma once
// The global rank order of a job: which rank runs where. Issue-level plans
// (fat-tree, torus, hierarchical) will reorder the nodes before this step;
// this file only lays ranks out over an already-ordered list of nodes:
// rank = node_rank * procs_per_node + local_rank, so each node's ranks are
// contiguous and the ring visits nodes in the given order.
//
// Pure functions; thread-safe.

#include <string>
#include <vector>

#include "common/status.h"

namespace dstrain::topology {

struct RankSlot {
  int rank = 0;
  int local_rank = 0;
  int node_rank = 0;
  std::string node_id;
};

// Lays out `procs_per_node` ranks on each node of `ordered_nodes`.
// INVALID_ARGUMENT when there are no nodes, a node id repeats, or
// procs_per_node < 1.
StatusOr<std::vector<RankSlot>> LayOutRanks(
    const std::vector<std::string>& ordered_nodes, int procs_per_node);

// OK when `slots` is a valid layout: ranks 0..n-1 each exactly once, local
// ranks on every node 0..k-1 each exactly once, node ranks consistent with
// node ids. The coordinator checks every plan with it before launching.
Status ValidateRankLayout(const std::vector<RankSlot>& slots);

}  // namespace dstrain::topology
