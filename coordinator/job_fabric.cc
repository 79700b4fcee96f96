#include "coordinator/job_fabric.h"

#include <algorithm>
#include <map>
#include <set>

namespace dstrain::coordinator {
namespace {

using topology::Cluster;
using topology::VertexId;

// The switches one level above `below` (each linking to at least one of
// them), those linking to the most first, then by id; at most
// kMaxSwitchesPerLevel. *omitted counts the ones left out.
std::vector<VertexId> LevelAbove(const Cluster& c,
                                 const std::vector<VertexId>& below,
                                 int* omitted) {
  std::map<VertexId, int> served;  // switch -> shown switches below it
  for (VertexId s : below) {
    std::set<VertexId> mine;
    for (const topology::Adjacent& a : c.neighbors(s)) {
      if (c.IsSwitch(a.neighbor) && c.Level(a.neighbor) == c.Level(s) + 1) {
        mine.insert(a.neighbor);
      }
    }
    for (VertexId up : mine) ++served[up];
  }
  std::vector<std::pair<int, VertexId>> ranked;
  for (const auto& [v, n] : served) ranked.emplace_back(-n, v);
  std::sort(ranked.begin(), ranked.end());
  std::vector<VertexId> out;
  for (const auto& [n, v] : ranked) {
    if (static_cast<int>(out.size()) == kMaxSwitchesPerLevel) {
      ++*omitted;
      continue;
    }
    out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

proto::JobFabric DescribeJobFabric(const Cluster* cluster,
                                   const std::vector<FabricPlacement>& nodes,
                                   int procs_per_node) {
  proto::JobFabric out;
  out.set_kind(cluster == nullptr
                   ? "none"
                   : topology::FabricKindName(cluster->fabric().kind));
  if (cluster != nullptr) out.set_cluster(cluster->name());
  std::vector<VertexId> leaves;  // in the order the nodes first use them
  std::set<VertexId> seen;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    proto::FabricNode* n = out.add_nodes();
    n->set_node_id(nodes[i].node_id);
    n->set_hostname(nodes[i].hostname);
    n->set_node_rank(static_cast<int>(i));
    n->set_first_rank(static_cast<int>(i) * procs_per_node);
    n->set_ranks(procs_per_node);
    n->set_lost(nodes[i].lost);
    if (cluster == nullptr) continue;
    const VertexId host = cluster->Find(nodes[i].hostname);
    if (!cluster->IsHost(host)) continue;
    for (VertexId leaf : cluster->LeavesOf(host)) {
      n->add_leaves(cluster->vertex(leaf).name);
      if (seen.insert(leaf).second) leaves.push_back(leaf);
    }
    for (int x : cluster->vertex(host).host.torus_coords) {
      n->add_torus_coords(x);
    }
  }
  if (cluster == nullptr) return out;
  for (int d : cluster->fabric().torus_dims) out.add_torus_dims(d);
  for (bool w : cluster->fabric().torus_wrap) out.add_torus_wrap(w);

  int omitted = 0;
  std::vector<std::vector<VertexId>> levels = {leaves};
  while (!levels.back().empty()) {
    levels.push_back(LevelAbove(*cluster, levels.back(), &omitted));
  }
  levels.pop_back();
  out.set_switches_omitted(omitted);
  for (std::size_t l = 0; l < levels.size(); ++l) {
    const std::set<VertexId> above =
        l + 1 < levels.size()
            ? std::set<VertexId>(levels[l + 1].begin(), levels[l + 1].end())
            : std::set<VertexId>();
    for (VertexId s : levels[l]) {
      const topology::Vertex& v = cluster->vertex(s);
      proto::FabricSwitch* sw = out.add_switches();
      sw->set_name(v.name);
      sw->set_level(v.sw.level);
      sw->set_rail(v.sw.rail);
      std::set<VertexId> ups;
      for (const topology::Adjacent& a : cluster->neighbors(s)) {
        if (above.count(a.neighbor) != 0) ups.insert(a.neighbor);
      }
      for (VertexId up : ups) sw->add_up(cluster->vertex(up).name);
    }
  }
  return out;
}

}  // namespace dstrain::coordinator
