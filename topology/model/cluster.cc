#include "topology/model/cluster.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>

namespace dstrain::topology {
namespace {

std::string Quote(const std::string& s) { return "`" + s + "`"; }

std::string CoordsText(const std::vector<int>& c) {
  std::string out = "(";
  for (size_t i = 0; i < c.size(); ++i) {
    if (i) out += ",";
    out += std::to_string(c[i]);
  }
  return out + ")";
}

}  // namespace

const char* FabricKindName(FabricKind kind) {
  switch (kind) {
    case FabricKind::kUnknown:
      return "unknown";
    case FabricKind::kFatTree:
      return "fat-tree";
    case FabricKind::kRailOptimized:
      return "rail-optimized";
    case FabricKind::kTorus:
      return "torus";
  }
  return "unknown";
}

void Cluster::Reserve(int vertices, int links) {
  vertices_.reserve(vertices);
  adjacency_.reserve(vertices);
  by_name_.reserve(vertices);
  links_.reserve(links);
}

StatusOr<VertexId> Cluster::AddHost(std::string name, HostInfo info) {
  if (name.empty()) return InvalidArgument("a host needs a name");
  if (info.devices < 0) {
    return InvalidArgument("host " + Quote(name) + ": devices must be >= 0");
  }
  const VertexId id = num_vertices();
  auto [it, inserted] = by_name_.emplace(name, id);
  if (!inserted) {
    return InvalidArgument(
        "duplicate name " + Quote(name) + ": already " +
        (vertices_[it->second].is_host() ? "a host" : "a switch"));
  }
  Vertex v;
  v.id = id;
  v.kind = VertexKind::kHost;
  v.name = std::move(name);
  v.host = std::move(info);
  uint64_t key = 0;
  if (!v.host.torus_coords.empty() && PackCoords(v.host.torus_coords, &key))
    by_coords_.emplace(key, id);
  vertices_.push_back(std::move(v));
  adjacency_.emplace_back();
  hosts_.push_back(id);
  return id;
}

StatusOr<VertexId> Cluster::AddSwitch(std::string name, SwitchInfo info) {
  if (name.empty()) return InvalidArgument("a switch needs a name");
  if (info.level < 0) {
    return InvalidArgument("switch " + Quote(name) + ": level must be >= 0");
  }
  const VertexId id = num_vertices();
  auto [it, inserted] = by_name_.emplace(name, id);
  if (!inserted) {
    return InvalidArgument(
        "duplicate name " + Quote(name) + ": already " +
        (vertices_[it->second].is_host() ? "a host" : "a switch"));
  }
  Vertex v;
  v.id = id;
  v.kind = VertexKind::kSwitch;
  v.name = std::move(name);
  v.sw = info;
  vertices_.push_back(std::move(v));
  adjacency_.emplace_back();
  switches_.push_back(id);
  return id;
}

StatusOr<LinkId> Cluster::AddLink(VertexId a, VertexId b, double bandwidth,
                                  double latency, int nic_a, int nic_b) {
  if (a < 0 || a >= num_vertices() || b < 0 || b >= num_vertices()) {
    return InvalidArgument("link " + std::to_string(a) + " - " +
                           std::to_string(b) + " names a missing vertex");
  }
  const std::string what =
      "link " + Quote(vertices_[a].name) + " - " + Quote(vertices_[b].name);
  if (a == b) return InvalidArgument(what + " joins a vertex to itself");
  if (!(bandwidth > 0) || !std::isfinite(bandwidth))
    return InvalidArgument(what + ": bandwidth must be > 0");
  if (!(latency >= 0) || !std::isfinite(latency))
    return InvalidArgument(what + ": latency must be >= 0");
  auto check_nic = [&](VertexId v, int nic) -> Status {
    if (nic == -1) return Status::Ok();
    if (!vertices_[v].is_host()) {
      return InvalidArgument(what + ": a NIC index is given for switch " +
                             Quote(vertices_[v].name));
    }
    if (nic < 0 || nic >= static_cast<int>(vertices_[v].host.nics.size())) {
      return InvalidArgument(what + ": host " + Quote(vertices_[v].name) +
                             " has no NIC " + std::to_string(nic));
    }
    return Status::Ok();
  };
  DSTRAIN_RETURN_IF_ERROR(check_nic(a, nic_a));
  DSTRAIN_RETURN_IF_ERROR(check_nic(b, nic_b));
  const LinkId id = num_links();
  links_.push_back(Link{id, a, b, bandwidth, latency, nic_a, nic_b});
  adjacency_[a].push_back(Adjacent{b, id});
  adjacency_[b].push_back(Adjacent{a, id});
  return id;
}

Status Cluster::SetHostInfo(VertexId host, HostInfo info) {
  if (!IsHost(host)) {
    return InvalidArgument("vertex " + std::to_string(host) + " is not a host");
  }
  if (info.devices < 0) {
    return InvalidArgument("host " + Quote(vertices_[host].name) +
                           ": devices must be >= 0");
  }
  Vertex& v = vertices_[host];
  // A link's NIC index must stay valid.
  for (const Adjacent& adj : adjacency_[host]) {
    const Link& l = links_[adj.link];
    const int nic = l.a == host ? l.nic_a : l.nic_b;
    if (nic >= static_cast<int>(info.nics.size())) {
      return InvalidArgument("host " + Quote(v.name) + ": link to " +
                             Quote(vertices_[adj.neighbor].name) +
                             " uses NIC " + std::to_string(nic) +
                             ", which the new details lack");
    }
  }
  uint64_t key = 0;
  if (!v.host.torus_coords.empty() && PackCoords(v.host.torus_coords, &key)) {
    auto it = by_coords_.find(key);
    if (it != by_coords_.end() && it->second == host) by_coords_.erase(it);
  }
  v.host = std::move(info);
  if (!v.host.torus_coords.empty() && PackCoords(v.host.torus_coords, &key))
    by_coords_.emplace(key, host);
  return Status::Ok();
}

int64_t Cluster::total_devices() const {
  int64_t n = 0;
  for (VertexId h : hosts_) n += vertices_[h].host.devices;
  return n;
}

VertexId Cluster::Find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? kNoVertex : it->second;
}

LinkId Cluster::LinkBetween(VertexId a, VertexId b) const {
  if (a < 0 || a >= num_vertices() || b < 0 || b >= num_vertices())
    return kNoLink;
  if (adjacency_[a].size() > adjacency_[b].size()) std::swap(a, b);
  for (const Adjacent& adj : adjacency_[a])
    if (adj.neighbor == b) return adj.link;
  return kNoLink;
}

std::vector<LinkId> Cluster::LinksBetween(VertexId a, VertexId b) const {
  std::vector<LinkId> out;
  if (a < 0 || a >= num_vertices() || b < 0 || b >= num_vertices()) return out;
  if (adjacency_[a].size() > adjacency_[b].size()) std::swap(a, b);
  for (const Adjacent& adj : adjacency_[a])
    if (adj.neighbor == b) out.push_back(adj.link);
  return out;
}

VertexId Cluster::LeafOf(VertexId host, int rail) const {
  if (!IsHost(host)) return kNoVertex;
  for (const Adjacent& adj : adjacency_[host]) {
    const Vertex& n = vertices_[adj.neighbor];
    if (!n.is_switch() || n.sw.level != 0) continue;
    if (rail < 0 || n.sw.rail == rail) return n.id;
    // A leaf without a rail of its own reached through that rail's NIC.
    if (n.sw.rail < 0) {
      const Link& l = links_[adj.link];
      const int nic = l.a == host ? l.nic_a : l.nic_b;
      if (nic >= 0 && vertices_[host].host.nics[nic].rail == rail) return n.id;
    }
  }
  return kNoVertex;
}

std::vector<VertexId> Cluster::LeavesOf(VertexId host) const {
  std::vector<VertexId> out;
  if (!IsHost(host)) return out;
  for (const Adjacent& adj : adjacency_[host]) {
    const Vertex& n = vertices_[adj.neighbor];
    if (n.is_switch() && n.sw.level == 0 &&
        std::find(out.begin(), out.end(), n.id) == out.end()) {
      out.push_back(n.id);
    }
  }
  return out;
}

bool Cluster::PackCoords(std::span<const int> coords, uint64_t* key) {
  // Up to 4 dimensions of 16 bits each; the size is packed too so (1,2)
  // and (1,2,0) differ.
  if (coords.empty() || coords.size() > 4) return false;
  uint64_t k = coords.size();
  for (int c : coords) {
    if (c < 0 || c >= (1 << 15)) return false;
    k = (k << 15) | static_cast<uint64_t>(c);
  }
  *key = k;
  return true;
}

VertexId Cluster::HostAtCoords(std::span<const int> coords) const {
  uint64_t key = 0;
  if (!PackCoords(coords, &key)) return kNoVertex;
  auto it = by_coords_.find(key);
  if (it == by_coords_.end()) return kNoVertex;
  // Guard against a host whose coordinates changed after an equal key.
  const auto& c = vertices_[it->second].host.torus_coords;
  if (!std::equal(c.begin(), c.end(), coords.begin(), coords.end()))
    return kNoVertex;
  return it->second;
}

std::vector<int> Cluster::HopDistances(VertexId from) const {
  std::vector<int> dist(vertices_.size(), -1);
  if (from < 0 || from >= num_vertices()) return dist;
  std::vector<VertexId> queue;
  queue.reserve(vertices_.size());
  queue.push_back(from);
  dist[from] = 0;
  for (size_t head = 0; head < queue.size(); ++head) {
    const VertexId v = queue[head];
    for (const Adjacent& adj : adjacency_[v]) {
      if (dist[adj.neighbor] >= 0) continue;
      dist[adj.neighbor] = dist[v] + 1;
      queue.push_back(adj.neighbor);
    }
  }
  return dist;
}

Status Cluster::CheckConnected() const {
  if (hosts_.size() <= 1) return Status::Ok();
  const std::vector<int> dist = HopDistances(hosts_[0]);
  for (VertexId h : hosts_) {
    if (dist[h] < 0) {
      return InvalidArgument(
          "host " + Quote(vertices_[h].name) + " cannot reach host " +
          Quote(vertices_[hosts_[0]].name) + ": the fabric is not connected");
    }
  }
  return Status::Ok();
}

Status Cluster::CheckFatTreeHost(const Vertex& h, bool rail_optimized) const {
  VertexId first_leaf = kNoVertex;
  std::vector<VertexId> rail_leaf;  // rail -> leaf seen for it
  for (const Adjacent& adj : adjacency_[h.id]) {
    const Vertex& n = vertices_[adj.neighbor];
    if (n.is_host()) {
      return InvalidArgument("host " + Quote(h.name) + " links to host " +
                             Quote(n.name) + " on a " +
                             FabricKindName(fabric_.kind) +
                             " fabric (hosts link only to leaf switches)");
    }
    if (n.sw.level != 0) {
      return InvalidArgument("host " + Quote(h.name) + " links to " +
                             Quote(n.name) + " of level " +
                             std::to_string(n.sw.level) +
                             " (hosts link only to leaf switches, level 0)");
    }
    if (!rail_optimized) {
      if (first_leaf == kNoVertex) {
        first_leaf = n.id;
      } else if (first_leaf != n.id) {
        return InvalidArgument("host " + Quote(h.name) +
                               " is under two leaf switches, " +
                               Quote(vertices_[first_leaf].name) + " and " +
                               Quote(n.name) + " (plain fat-tree)");
      }
      continue;
    }
    const Link& l = links_[adj.link];
    const int nic = l.a == h.id ? l.nic_a : l.nic_b;
    int rail = n.sw.rail;
    if (nic >= 0) {
      const int nic_rail = h.host.nics[nic].rail;
      if (rail >= 0 && nic_rail >= 0 && nic_rail != rail) {
        return InvalidArgument(
            "host " + Quote(h.name) + ": NIC " + Quote(h.host.nics[nic].name) +
            " of rail " + std::to_string(nic_rail) + " links to " +
            Quote(n.name) + ", the leaf of rail " + std::to_string(rail));
      }
      if (rail < 0) rail = nic_rail;
    }
    if (rail < 0) {
      return InvalidArgument("host " + Quote(h.name) + " links to leaf " +
                             Quote(n.name) +
                             " with no rail on either end (rail-optimized)");
    }
    if (rail >= static_cast<int>(rail_leaf.size()))
      rail_leaf.resize(rail + 1, kNoVertex);
    if (rail_leaf[rail] == kNoVertex) {
      rail_leaf[rail] = n.id;
    } else if (rail_leaf[rail] != n.id) {
      return InvalidArgument(
          "host " + Quote(h.name) + " is under two leaf switches of rail " +
          std::to_string(rail) + ", " + Quote(vertices_[rail_leaf[rail]].name) +
          " and " + Quote(n.name));
    }
  }
  return Status::Ok();
}

Status Cluster::Validate() const {
  const FabricKind kind = fabric_.kind;
  const bool tree =
      kind == FabricKind::kFatTree || kind == FabricKind::kRailOptimized;
  if (kind == FabricKind::kTorus) {
    if (fabric_.torus_dims.empty())
      return InvalidArgument("torus fabric without dimensions");
    if (fabric_.torus_wrap.size() != fabric_.torus_dims.size()) {
      return InvalidArgument(
          "torus fabric: " + std::to_string(fabric_.torus_wrap.size()) +
          " wraparound flags for " + std::to_string(fabric_.torus_dims.size()) +
          " dimensions");
    }
    for (int d : fabric_.torus_dims)
      if (d < 1) return InvalidArgument("torus dimension sizes must be >= 1");
  }
  for (const Vertex& v : vertices_) {
    if (v.is_switch()) {
      if (!tree) continue;
      for (const Adjacent& adj : adjacency_[v.id]) {
        const Vertex& n = vertices_[adj.neighbor];
        if (n.is_switch() && n.sw.level == v.sw.level) {
          return InvalidArgument(
              "switches " + Quote(v.name) + " and " + Quote(n.name) +
              " are linked but both of level " + std::to_string(v.sw.level) +
              " (a " + FabricKindName(kind) +
              " links switches of different levels only)");
        }
      }
      continue;
    }
    const HostInfo& h = v.host;
    if (!h.device_info.empty() &&
        static_cast<int>(h.device_info.size()) != h.devices) {
      return InvalidArgument("host " + Quote(v.name) + " has " +
                             std::to_string(h.devices) + " devices but " +
                             std::to_string(h.device_info.size()) +
                             " device descriptions");
    }
    std::set<std::string> nic_names;
    for (const NicInfo& nic : h.nics) {
      if (nic.name.empty())
        return InvalidArgument("host " + Quote(v.name) +
                               ": a NIC needs a name");
      if (!nic_names.insert(nic.name).second) {
        return InvalidArgument("host " + Quote(v.name) + ": NIC " +
                               Quote(nic.name) + " appears twice");
      }
    }
    if (tree) {
      DSTRAIN_RETURN_IF_ERROR(
          CheckFatTreeHost(v, kind == FabricKind::kRailOptimized));
    }
    if (kind == FabricKind::kTorus) {
      const auto& dims = fabric_.torus_dims;
      if (h.torus_coords.size() != dims.size()) {
        return InvalidArgument("host " + Quote(v.name) + " has " +
                               std::to_string(h.torus_coords.size()) +
                               " torus coordinates; the torus has " +
                               std::to_string(dims.size()) + " dimensions");
      }
      for (size_t i = 0; i < dims.size(); ++i) {
        if (h.torus_coords[i] < 0 || h.torus_coords[i] >= dims[i]) {
          return InvalidArgument("host " + Quote(v.name) + " coordinates " +
                                 CoordsText(h.torus_coords) +
                                 " lie outside the torus " + CoordsText(dims));
        }
      }
      const VertexId at = HostAtCoords(h.torus_coords);
      if (at != v.id) {
        return InvalidArgument(
            "hosts " + Quote(at == kNoVertex ? "?" : vertices_[at].name) +
            " and " + Quote(v.name) + " share torus coordinates " +
            CoordsText(h.torus_coords));
      }
    }
  }
  return Status::Ok();
}

}  // namespace dstrain::topology
