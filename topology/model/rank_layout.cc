#include "topology/model/rank_layout.h"

#include <map>
#include <set>

namespace dstrain::topology {

StatusOr<std::vector<RankSlot>> LayOutRanks(
    const std::vector<std::string>& ordered_nodes, int procs_per_node) {
  if (ordered_nodes.empty())
    return InvalidArgument("no nodes to place ranks on");
  if (procs_per_node < 1) {
    return InvalidArgument("procs_per_node must be at least 1, got " +
                           std::to_string(procs_per_node));
  }
  std::set<std::string> seen;
  std::vector<RankSlot> slots;
  slots.reserve(ordered_nodes.size() * procs_per_node);
  for (int node_rank = 0; node_rank < static_cast<int>(ordered_nodes.size());
       ++node_rank) {
    const std::string& node = ordered_nodes[node_rank];
    if (!seen.insert(node).second) {
      return InvalidArgument("node `" + node +
                             "` appears twice in the node order");
    }
    for (int local = 0; local < procs_per_node; ++local) {
      slots.push_back(
          RankSlot{node_rank * procs_per_node + local, local, node_rank, node});
    }
  }
  return slots;
}

Status ValidateRankLayout(const std::vector<RankSlot>& slots) {
  const int world = static_cast<int>(slots.size());
  std::vector<bool> rank_seen(world, false);
  std::map<std::string, int> node_rank_of;
  std::map<std::string, std::set<int>> locals_of;
  for (const RankSlot& s : slots) {
    if (s.rank < 0 || s.rank >= world) {
      return InvalidArgument("rank " + std::to_string(s.rank) +
                             " is outside 0.." + std::to_string(world - 1));
    }
    if (rank_seen[s.rank]) {
      return InvalidArgument("rank " + std::to_string(s.rank) +
                             " is placed twice");
    }
    rank_seen[s.rank] = true;
    auto [it, inserted] = node_rank_of.emplace(s.node_id, s.node_rank);
    if (!inserted && it->second != s.node_rank) {
      return InvalidArgument("node `" + s.node_id + "` has two node ranks");
    }
    if (!locals_of[s.node_id].insert(s.local_rank).second) {
      return InvalidArgument("local rank " + std::to_string(s.local_rank) +
                             " is used twice on node `" + s.node_id + "`");
    }
  }
  for (const auto& [node, locals] : locals_of) {
    if (*locals.begin() != 0 ||
        *locals.rbegin() != static_cast<int>(locals.size()) - 1) {
      return InvalidArgument("local ranks on node `" + node +
                             "` are not 0..k-1");
    }
  }
  return Status::Ok();
}

}  // namespace dstrain::topology
