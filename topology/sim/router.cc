#include "topology/sim/router.h"

#include <algorithm>
#include <cstdlib>

namespace dstrain::topology {

uint64_t MixHash(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

StatusOr<Router> Router::Create(const Cluster& cluster) {
  Router r(cluster);
  const int nv = cluster.num_vertices();
  r.ports_.assign(nv, {});
  bool hosts_on_leaves = cluster.num_switches() > 0;
  for (VertexId h : cluster.hosts()) {
    for (const Adjacent& adj : cluster.neighbors(h)) {
      if (cluster.IsSwitch(adj.neighbor)) {
        r.ports_[h].push_back(adj.link);
        if (cluster.Level(adj.neighbor) != 0) hosts_on_leaves = false;
      } else {
        hosts_on_leaves = false;  // host-to-host links: not a tree
      }
    }
  }
  const FabricKind kind = cluster.fabric().kind;
  if (kind == FabricKind::kTorus) {
    r.mode_ = Mode::kDimensionOrder;
    return r;
  }
  if (kind == FabricKind::kFatTree || kind == FabricKind::kRailOptimized ||
      hosts_on_leaves) {
    r.mode_ = Mode::kUpDown;
    r.leaf_index_.assign(nv, -1);
    int leaves = 0;
    for (VertexId s : cluster.switches())
      if (cluster.Level(s) == 0) r.leaf_index_[s] = leaves++;
    r.words_ = (leaves + 63) / 64;
    r.below_.assign(static_cast<size_t>(nv) * r.words_, 0);
    std::vector<VertexId> order(cluster.switches().begin(),
                                cluster.switches().end());
    std::stable_sort(order.begin(), order.end(), [&](VertexId a, VertexId b) {
      return cluster.Level(a) < cluster.Level(b);
    });
    for (VertexId s : order) {
      uint64_t* row = &r.below_[static_cast<size_t>(s) * r.words_];
      if (r.leaf_index_[s] >= 0)
        row[r.leaf_index_[s] / 64] |= uint64_t{1} << (r.leaf_index_[s] % 64);
      for (const Adjacent& adj : cluster.neighbors(s)) {
        if (!cluster.IsSwitch(adj.neighbor)) continue;
        if (cluster.Level(adj.neighbor) >= cluster.Level(s)) continue;
        const uint64_t* child =
            &r.below_[static_cast<size_t>(adj.neighbor) * r.words_];
        for (int w = 0; w < r.words_; ++w) row[w] |= child[w];
      }
    }
    return r;
  }
  r.mode_ = Mode::kShortestPath;
  return r;
}

bool Router::Below(VertexId sw, int leaf) const {
  return (below_[static_cast<size_t>(sw) * words_ + leaf / 64] >> (leaf % 64)) &
         1;
}

Hop Router::HopOver(LinkId link, VertexId from) const {
  return Hop{link, cluster_->link(link).a == from};
}

Status Router::Route(VertexId src, int src_port, VertexId dst, int dst_port,
                     std::vector<Hop>* out) const {
  if (src == dst) return Status::Ok();
  switch (mode_) {
    case Mode::kUpDown:
      return RouteUpDown(src, src_port, dst, dst_port, out);
    case Mode::kDimensionOrder:
      return RouteTorus(src, dst, out);
    case Mode::kShortestPath:
      break;
  }
  return RouteShortest(src, dst, out);
}

Status Router::RouteUpDown(VertexId src, int src_port, VertexId dst,
                           int dst_port, std::vector<Hop>* out) const {
  const Cluster& c = *cluster_;
  const auto& sp = ports_[src];
  const auto& dp = ports_[dst];
  if (sp.empty() || dp.empty()) return RouteShortest(src, dst, out);
  const LinkId first = sp[src_port % sp.size()];
  const LinkId last = dp[dst_port % dp.size()];
  const VertexId leaf_s = c.link(first).Other(src);
  const VertexId leaf_d = c.link(last).Other(dst);
  const int target = leaf_index_[leaf_d];
  if (target < 0 || leaf_index_[leaf_s] < 0)
    return RouteShortest(src, dst, out);
  out->push_back(HopOver(first, src));
  const uint64_t flow =
      MixHash((static_cast<uint64_t>(src) << 32) ^ static_cast<uint32_t>(dst));
  VertexId at = leaf_s;
  // The hash picks one of the qualifying links; candidates go to a stack
  // buffer (no allocation), or are counted and rescanned on huge switches.
  auto pick = [&](auto&& qualifies, uint64_t salt) -> const Adjacent* {
    constexpr int kBuffer = 128;
    const Adjacent* buffer[kBuffer];
    const auto nbrs = c.neighbors(at);
    int count = 0;
    for (const Adjacent& adj : nbrs) {
      if (!qualifies(adj)) continue;
      if (count < kBuffer) buffer[count] = &adj;
      ++count;
    }
    if (count == 0) return nullptr;
    int m = static_cast<int>(MixHash(flow + salt) % count);
    if (count <= kBuffer) return buffer[m];
    for (const Adjacent& adj : nbrs)
      if (qualifies(adj) && m-- == 0) return &adj;
    return nullptr;
  };
  // Up until the destination leaf lies below.
  while (!Below(at, target)) {
    const int level = c.Level(at);
    auto up = [&](const Adjacent& adj) {
      return c.IsSwitch(adj.neighbor) && c.Level(adj.neighbor) > level;
    };
    const Adjacent* next = pick(
        [&](const Adjacent& adj) {
          return up(adj) && Below(adj.neighbor, target);
        },
        level);
    // None has the destination below: keep climbing toward an ancestor.
    if (next == nullptr) next = pick(up, level);
    if (next == nullptr) {
      return NotFound("no up-down route from `" + c.vertex(src).name +
                      "` to `" + c.vertex(dst).name + "`: `" +
                      c.vertex(at).name + "` has no way up");
    }
    out->push_back(HopOver(next->link, at));
    at = next->neighbor;
  }
  // Down to the leaf.
  while (at != leaf_d) {
    const int level = c.Level(at);
    const Adjacent* next = pick(
        [&](const Adjacent& adj) {
          return c.IsSwitch(adj.neighbor) && c.Level(adj.neighbor) < level &&
                 Below(adj.neighbor, target);
        },
        64 + level);
    if (next == nullptr) {
      return NotFound("no down route to `" + c.vertex(dst).name + "` from `" +
                      c.vertex(at).name + "`");
    }
    out->push_back(HopOver(next->link, at));
    at = next->neighbor;
  }
  out->push_back(HopOver(last, leaf_d));
  return Status::Ok();
}

Status Router::RouteTorus(VertexId src, VertexId dst,
                          std::vector<Hop>* out) const {
  const Cluster& c = *cluster_;
  const auto& dims = c.fabric().torus_dims;
  const auto& wrap = c.fabric().torus_wrap;
  std::vector<int> at = c.vertex(src).host.torus_coords;
  const std::vector<int>& to = c.vertex(dst).host.torus_coords;
  if (at.size() != dims.size() || to.size() != dims.size())
    return RouteShortest(src, dst, out);
  const size_t mark = out->size();
  VertexId cur = src;
  for (size_t d = 0; d < dims.size(); ++d) {
    const int size = dims[d];
    int delta = to[d] - at[d];
    int step = delta > 0 ? 1 : -1;
    int count = std::abs(delta);
    if (d < wrap.size() && wrap[d] && count > size - count) {
      step = -step;
      count = size - count;
    } else if (d < wrap.size() && wrap[d] && count == size - count &&
               step < 0) {
      step = 1;  // a tie: go up
    }
    for (int i = 0; i < count; ++i) {
      at[d] = ((at[d] + step) % size + size) % size;
      const VertexId next = c.HostAtCoords(at);
      const LinkId link =
          next == kNoVertex ? kNoLink : c.LinkBetween(cur, next);
      if (link == kNoLink) {  // a hole in the torus: fall back
        out->resize(mark);
        return RouteShortest(src, dst, out);
      }
      out->push_back(HopOver(link, cur));
      cur = next;
    }
  }
  return Status::Ok();
}

Status Router::RouteShortest(VertexId src, VertexId dst,
                             std::vector<Hop>* out) const {
  const Cluster& c = *cluster_;
  std::vector<LinkId> via(c.num_vertices(), kNoLink);
  std::vector<VertexId> queue{src};
  std::vector<bool> seen(c.num_vertices(), false);
  seen[src] = true;
  for (size_t head = 0; head < queue.size() && !seen[dst]; ++head) {
    const VertexId v = queue[head];
    for (const Adjacent& adj : c.neighbors(v)) {
      if (seen[adj.neighbor]) continue;
      // Hosts relay nothing on switched fabrics; on host-to-host fabrics
      // (tori, hand-written meshes) they do.
      if (c.IsHost(v) && v != src && c.IsSwitch(adj.neighbor)) continue;
      seen[adj.neighbor] = true;
      via[adj.neighbor] = adj.link;
      queue.push_back(adj.neighbor);
    }
  }
  if (!seen[dst]) {
    return NotFound("no path from `" + c.vertex(src).name + "` to `" +
                    c.vertex(dst).name + "`");
  }
  std::vector<Hop> back;
  for (VertexId v = dst; v != src;) {
    const LinkId l = via[v];
    const VertexId prev = c.link(l).Other(v);
    back.push_back(HopOver(l, prev));
    v = prev;
  }
  out->insert(out->end(), back.rbegin(), back.rend());
  return Status::Ok();
}

}  // namespace dstrain::topology
