#include "topology/plan/rail_placement.h"

#include "topology/plan/fat_tree_placement.h"

namespace dstrain::topology {

StatusOr<Placement> PlaceRailOptimized(const Cluster& cluster,
                                       std::span<const VertexId> hosts) {
  DSTRAIN_RETURN_IF_ERROR(CheckAllocation(cluster, hosts));
  // Rail 0's leaf when the hosts have rails; otherwise their first leaf.
  int rail = 0;
  for (VertexId h : hosts) {
    if (cluster.LeafOf(h, 0) == kNoVertex) {
      rail = -1;
      break;
    }
  }
  DSTRAIN_ASSIGN_OR_RETURN(auto order, OrderBySwitchPath(cluster, hosts, rail));
  Placement p;
  p.kind = PlacementKind::kRailOptimized;
  p.method = "rail-aligned, leaf-contiguous";
  p.hosts = std::move(order);
  p.env.emplace_back("NCCL_CROSS_NIC", "0");
  return p;
}

}  // namespace dstrain::topology
