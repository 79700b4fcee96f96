#include "topology/plan/fat_tree_placement.h"

#include <algorithm>
#include <climits>

#include "topology/plan/baseline_placement.h"

namespace dstrain::topology {
namespace {

// anc[s * (levels) + l]: smallest level-l ancestor of switch s (INT_MAX when
// none), for every switch s; hosts are not in the table.
struct AncestorTable {
  int levels = 0;
  std::vector<VertexId> anc;
  VertexId At(VertexId s, int level) const { return anc[s * levels + level]; }
};

AncestorTable BuildAncestors(const Cluster& cluster) {
  AncestorTable t;
  int max_level = 0;
  for (VertexId s : cluster.switches())
    max_level = std::max(max_level, cluster.Level(s));
  t.levels = max_level + 1;
  t.anc.assign(static_cast<size_t>(cluster.num_vertices()) * t.levels, INT_MAX);
  std::vector<VertexId> order(cluster.switches().begin(),
                              cluster.switches().end());
  // Top levels first, so a switch's parents are complete when it is done.
  std::stable_sort(order.begin(), order.end(), [&](VertexId a, VertexId b) {
    return cluster.Level(a) > cluster.Level(b);
  });
  for (VertexId s : order) {
    const int ls = cluster.Level(s);
    VertexId* row = &t.anc[static_cast<size_t>(s) * t.levels];
    row[ls] = s;
    for (const Adjacent& adj : cluster.neighbors(s)) {
      if (!cluster.IsSwitch(adj.neighbor)) continue;
      if (cluster.Level(adj.neighbor) <= ls) continue;
      const VertexId* up = &t.anc[static_cast<size_t>(adj.neighbor) * t.levels];
      for (int l = ls + 1; l < t.levels; ++l) row[l] = std::min(row[l], up[l]);
    }
  }
  return t;
}

}  // namespace

StatusOr<std::vector<VertexId>> OrderBySwitchPath(
    const Cluster& cluster, std::span<const VertexId> hosts, int rail) {
  DSTRAIN_RETURN_IF_ERROR(CheckAllocation(cluster, hosts));
  const AncestorTable table = BuildAncestors(cluster);
  struct Keyed {
    VertexId host;
    VertexId leaf;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(hosts.size());
  for (VertexId h : hosts) {
    const VertexId leaf = cluster.LeafOf(h, rail);
    if (leaf == kNoVertex) {
      return InvalidArgument(
          "host `" + cluster.vertex(h).name + "` has no leaf switch" +
          (rail >= 0 ? " on rail " + std::to_string(rail) : std::string()));
    }
    keyed.push_back({h, leaf});
  }
  std::sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
    if (a.leaf != b.leaf) {
      for (int l = table.levels - 1; l >= 0; --l) {
        const VertexId x = table.At(a.leaf, l), y = table.At(b.leaf, l);
        if (x != y) return x < y;
      }
    }
    return NaturalLess(cluster.vertex(a.host).name,
                       cluster.vertex(b.host).name);
  });
  std::vector<VertexId> out;
  out.reserve(keyed.size());
  for (const Keyed& k : keyed) out.push_back(k.host);
  return out;
}

StatusOr<Placement> PlaceFatTree(const Cluster& cluster,
                                 std::span<const VertexId> hosts) {
  DSTRAIN_ASSIGN_OR_RETURN(auto order, OrderBySwitchPath(cluster, hosts, -1));
  Placement p;
  p.kind = PlacementKind::kFatTree;
  p.method = "leaf-contiguous";
  p.hosts = std::move(order);
  return p;
}

}  // namespace dstrain::topology
