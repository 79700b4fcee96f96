#include "topology/plan/placement.h"

#include "topology/plan/baseline_placement.h"
#include "topology/plan/fat_tree_placement.h"
#include "topology/plan/rail_placement.h"
#include "topology/plan/torus_placement.h"

namespace dstrain::topology {

const char* PlacementKindName(PlacementKind kind) {
  switch (kind) {
    case PlacementKind::kAuto:
      return "auto";
    case PlacementKind::kFatTree:
      return "fat-tree";
    case PlacementKind::kRailOptimized:
      return "rail";
    case PlacementKind::kTorusSnake:
      return "torus";
    case PlacementKind::kHostname:
      return "hostname";
    case PlacementKind::kRandom:
      return "random";
  }
  return "auto";
}

StatusOr<PlacementKind> ParsePlacementKind(std::string_view name) {
  for (PlacementKind k :
       {PlacementKind::kAuto, PlacementKind::kFatTree,
        PlacementKind::kRailOptimized, PlacementKind::kTorusSnake,
        PlacementKind::kHostname, PlacementKind::kRandom}) {
    if (name == PlacementKindName(k)) return k;
  }
  return InvalidArgument("unknown placement `" + std::string(name) +
                         "` (expected auto, fat-tree, rail, torus, hostname "
                         "or random)");
}

StatusOr<std::vector<VertexId>> ResolveHosts(
    const Cluster& cluster, std::span<const std::string> names) {
  std::vector<VertexId> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    const VertexId v = cluster.Find(name);
    if (v == kNoVertex) {
      return InvalidArgument("host `" + name + "` is not in cluster `" +
                             cluster.name() + "`");
    }
    out.push_back(v);
  }
  DSTRAIN_RETURN_IF_ERROR(CheckAllocation(cluster, out));
  return out;
}

Status CheckAllocation(const Cluster& cluster,
                       std::span<const VertexId> hosts) {
  if (hosts.empty()) return InvalidArgument("no hosts to place");
  std::vector<bool> seen(cluster.num_vertices(), false);
  for (VertexId h : hosts) {
    if (h < 0 || h >= cluster.num_vertices()) {
      return InvalidArgument("vertex " + std::to_string(h) +
                             " is not in cluster `" + cluster.name() + "`");
    }
    if (!cluster.IsHost(h)) {
      return InvalidArgument("`" + cluster.vertex(h).name +
                             "` is a switch, not a host");
    }
    if (seen[h]) {
      return InvalidArgument("host `" + cluster.vertex(h).name +
                             "` is allocated twice");
    }
    seen[h] = true;
  }
  return Status::Ok();
}

StatusOr<Placement> Place(const Cluster& cluster,
                          std::span<const VertexId> hosts, PlacementKind kind,
                          uint64_t seed) {
  if (kind == PlacementKind::kAuto) {
    switch (cluster.fabric().kind) {
      case FabricKind::kFatTree:
        kind = PlacementKind::kFatTree;
        break;
      case FabricKind::kRailOptimized:
        kind = PlacementKind::kRailOptimized;
        break;
      case FabricKind::kTorus:
        kind = PlacementKind::kTorusSnake;
        break;
      case FabricKind::kUnknown: {
        // Hosts under leaf switches still order well by leaf; a flat host
        // list, or hosts wired to each other, has nothing better than names.
        bool on_leaves = cluster.num_switches() > 0;
        for (VertexId h : hosts) {
          if (!on_leaves) break;
          on_leaves = cluster.IsHost(h) && cluster.LeafOf(h) != kNoVertex;
        }
        kind = on_leaves ? PlacementKind::kFatTree : PlacementKind::kHostname;
        break;
      }
    }
  }
  switch (kind) {
    case PlacementKind::kFatTree:
      return PlaceFatTree(cluster, hosts);
    case PlacementKind::kRailOptimized:
      return PlaceRailOptimized(cluster, hosts);
    case PlacementKind::kTorusSnake:
      return PlaceTorusSnake(cluster, hosts);
    case PlacementKind::kRandom:
      return PlaceRandom(cluster, hosts, seed);
    case PlacementKind::kHostname:
    case PlacementKind::kAuto:
      break;
  }
  return PlaceByHostname(cluster, hosts);
}

}  // namespace dstrain::topology
