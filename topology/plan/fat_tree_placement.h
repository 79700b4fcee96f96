#pragma once
// Fat-tree placement: hosts contiguous by their switch path,
// top level first (pod), then leaf switch, then host (natural name order);
// ranks are then contiguous by host and local device (rank_layout.h).
//
// Why: the ring visits hosts in this order, so consecutive hosts share a
// leaf except at a leaf boundary. Every ring hop but one per leaf stays
// under its leaf (crosses no spine), and every hop but one per pod stays in
// its pod; with L leaves the ring puts L flows on uplinks instead of ~n.
//
// The grouping key of a leaf at level l is the smallest switch id among its
// level-l ancestors (reached by links that go strictly up). On a k-ary
// fat-tree that names the pod at level 1; on a tree (topology.conf) it is
// the one parent chain. Switch ids follow insertion order, so pods and
// leaves appear in the order of the file or generator.
//
// Cost: O(S*L + E) for the ancestor table (S switches, L levels, E links)
// plus O(n log n) for the sort of n hosts. 8,192 hosts: about a millisecond.

#include <span>
#include <vector>

#include "common/status.h"
#include "topology/plan/placement.h"

namespace dstrain::topology {

StatusOr<Placement> PlaceFatTree(const Cluster& cluster,
                                 std::span<const VertexId> hosts);

// The ordering above, over each host's leaf of `rail` (-1: its first leaf).
// INVALID_ARGUMENT names a host without such a leaf. Shared with
// rail_placement.h.
StatusOr<std::vector<VertexId>> OrderBySwitchPath(
    const Cluster& cluster, std::span<const VertexId> hosts, int rail);

}  // namespace dstrain::topology
