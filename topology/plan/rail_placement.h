#pragma once
// Rail-optimized placement: on a fabric where NIC i of every host plugs into
// the leaf of rail i, hosts are ordered as on a fat-tree by the switch path
// above their rail-0 leaf (hosts sharing rail leaves, a "scalable unit",
// stay together), and the plan sets NCCL_CROSS_NIC=0 so each NCCL channel
// enters and leaves every host through the NIC of one rail: the ring's
// traffic on rail i never leaves rail i's leaf inside a unit, and crosses a
// spine once per unit.
//
// Cost: that of OrderBySwitchPath (fat_tree_placement.h).

#include <span>

#include "common/status.h"
#include "topology/plan/placement.h"

namespace dstrain::topology {

StatusOr<Placement> PlaceRailOptimized(const Cluster& cluster,
                                       std::span<const VertexId> hosts);

}  // namespace dstrain::topology
