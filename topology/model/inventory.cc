#include "topology/model/inventory.h"

#include <algorithm>

#include "topology/model/generators.h"

namespace dstrain::topology {
namespace {

std::string Quote(const std::string& s) { return "`" + s + "`"; }

Status ApplyRecord(const InventoryRecord& r, Cluster* c,
                   const InventoryOptions& o) {
  if (r.hostname.empty())
    return InvalidArgument("inventory: a record has no hostname");
  const std::string who = "inventory of " + Quote(r.hostname);
  if (r.gpus < 0) return InvalidArgument(who + ": gpus must be >= 0");
  if (!r.devices.empty() && r.gpus != 0 &&
      r.gpus != static_cast<int>(r.devices.size())) {
    return InvalidArgument(who + ": gpus = " + std::to_string(r.gpus) +
                           " but " + std::to_string(r.devices.size()) +
                           " devices listed");
  }
  VertexId host = c->Find(r.hostname);
  if (host != kNoVertex && !c->IsHost(host))
    return InvalidArgument(who + ": that name is a switch");
  HostInfo info = host == kNoVertex ? HostInfo{} : c->vertex(host).host;
  if (!r.devices.empty()) {
    info.devices = static_cast<int>(r.devices.size());
    info.device_info = r.devices;
  } else if (r.gpus > 0) {
    info.devices = r.gpus;
    if (static_cast<int>(info.device_info.size()) != r.gpus)
      info.device_info.clear();
  }
  if (!r.nics.empty()) info.nics = r.nics;
  if (!r.numa_nodes.empty()) info.numa_nodes = r.numa_nodes;
  if (!r.torus_coords.empty()) info.torus_coords = r.torus_coords;
  if (host == kNoVertex) {
    StatusOr<VertexId> added = c->AddHost(r.hostname, std::move(info));
    if (!added.ok())
      return InvalidArgument(who + ": " + added.status().message());
    host = *added;
  } else {
    Status s = c->SetHostInfo(host, std::move(info));
    if (!s.ok()) return InvalidArgument(who + ": " + s.message());
  }
  if (r.switch_path.empty()) return Status::Ok();

  std::vector<VertexId> path;
  for (size_t i = 0; i < r.switch_path.size(); ++i) {
    const std::string& name = r.switch_path[i];
    VertexId s = c->Find(name);
    if (s == kNoVertex) {
      StatusOr<VertexId> added =
          c->AddSwitch(name, SwitchInfo{static_cast<int>(i), -1});
      if (!added.ok())
        return InvalidArgument(who + ": " + added.status().message());
      s = *added;
    } else if (!c->IsSwitch(s)) {
      return InvalidArgument(who + ": switch path names host " + Quote(name));
    }
    if (!path.empty() && c->Level(s) <= c->Level(path.back())) {
      return InvalidArgument(who + ": switch path goes from " +
                             Quote(c->vertex(path.back()).name) + " (level " +
                             std::to_string(c->Level(path.back())) + ") to " +
                             Quote(name) + " (level " +
                             std::to_string(c->Level(s)) + "), not upwards");
    }
    if (std::find(path.begin(), path.end(), s) != path.end())
      return InvalidArgument(who + ": switch " + Quote(name) +
                             " repeats in the path");
    path.push_back(s);
  }
  const VertexId leaf = path[0];
  if (c->Level(leaf) != 0) {
    return InvalidArgument(who + ": switch path starts at " +
                           Quote(r.switch_path[0]) + " of level " +
                           std::to_string(c->Level(leaf)) + ", not a leaf");
  }
  const std::vector<VertexId> leaves = c->LeavesOf(host);
  if (!leaves.empty() &&
      std::find(leaves.begin(), leaves.end(), leaf) == leaves.end() &&
      c->fabric().kind != FabricKind::kRailOptimized) {
    return InvalidArgument(
        who + ": reported under leaf " + Quote(r.switch_path[0]) +
        " but the cluster has it under " + Quote(c->vertex(leaves[0]).name));
  }
  if (c->LinkBetween(host, leaf) == kNoLink) {
    double bw = 0;
    for (const NicInfo& n : c->vertex(host).host.nics) bw += n.bandwidth;
    if (!(bw > 0)) bw = o.link_bandwidth;
    StatusOr<LinkId> l = c->AddLink(host, leaf, bw, o.latency);
    if (!l.ok()) return InvalidArgument(who + ": " + l.status().message());
  }
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    if (c->LinkBetween(path[i], path[i + 1]) != kNoLink) continue;
    StatusOr<LinkId> l =
        c->AddLink(path[i], path[i + 1], o.link_bandwidth, o.latency);
    if (!l.ok()) return InvalidArgument(who + ": " + l.status().message());
  }
  return Status::Ok();
}

Status WireInventoryTorus(Cluster* c, const InventoryOptions& o) {
  if (c->num_hosts() == 0) return Status::Ok();
  const FabricKind kind = c->fabric().kind;
  if (kind != FabricKind::kTorus && kind != FabricKind::kUnknown)
    return Status::Ok();
  const size_t dims = c->vertex(c->hosts()[0]).host.torus_coords.size();
  if (dims == 0) return Status::Ok();
  for (VertexId h : c->hosts()) {
    if (c->vertex(h).host.torus_coords.size() != dims) return Status::Ok();
    for (const Adjacent& adj : c->neighbors(h))
      if (c->IsHost(adj.neighbor)) return Status::Ok();  // already wired
  }
  FabricParams f = c->fabric();
  f.kind = FabricKind::kTorus;
  if (!o.torus_dims.empty()) {
    f.torus_dims = o.torus_dims;
    f.torus_wrap.assign(o.torus_dims.size(), o.wraparound);
  } else if (f.torus_dims.size() != dims) {
    f.torus_dims.assign(dims, 0);
    for (VertexId h : c->hosts()) {
      const auto& x = c->vertex(h).host.torus_coords;
      for (size_t i = 0; i < dims; ++i)
        f.torus_dims[i] = std::max(f.torus_dims[i], x[i] + 1);
    }
    f.torus_wrap.assign(dims, false);
  }
  if (f.torus_dims.size() != dims) {
    return InvalidArgument("inventory: hosts have " + std::to_string(dims) +
                           " torus coordinates but the torus has " +
                           std::to_string(f.torus_dims.size()) + " dimensions");
  }
  c->set_fabric(f);
  return LinkTorusNeighbours(c, o.link_bandwidth, o.latency);
}

}  // namespace

Status ApplyInventory(const std::vector<InventoryRecord>& records, Cluster* c,
                      const InventoryOptions& o) {
  for (const InventoryRecord& r : records)
    DSTRAIN_RETURN_IF_ERROR(ApplyRecord(r, c, o));
  DSTRAIN_RETURN_IF_ERROR(WireInventoryTorus(c, o));
  if (c->fabric().kind == FabricKind::kUnknown && c->num_hosts() > 0) {
    bool all_under_leaves = true;
    for (VertexId h : c->hosts()) all_under_leaves &= c->LeafOf(h) != kNoVertex;
    if (all_under_leaves) {
      FabricParams f = c->fabric();
      f.kind = FabricKind::kFatTree;
      for (VertexId s : c->switches())
        f.levels = std::max(f.levels, c->Level(s) + 1);
      c->set_fabric(f);
    }
  }
  return c->Validate();
}

StatusOr<Cluster> ClusterFromInventory(
    const std::vector<InventoryRecord>& records,
    const InventoryOptions& options) {
  Cluster c;
  c.set_name("inventory");
  DSTRAIN_RETURN_IF_ERROR(ApplyInventory(records, &c, options));
  return c;
}

}  // namespace dstrain::topology
