#include "topology/plan/torus_placement.h"

#include <algorithm>
#include <deque>
#include <unordered_set>

namespace dstrain::topology {
namespace {

struct Torus {
  std::vector<int> dims;
  std::vector<bool> wrap;
};

// Neighbouring coordinates of `c` (each dimension +-1, wrapping where the
// torus wraps), without duplicates (a wrapped size-2 dimension has one).
void NeighborCoords(const Torus& t, const std::vector<int>& c,
                    std::vector<std::vector<int>>* out) {
  out->clear();
  for (size_t d = 0; d < t.dims.size(); ++d) {
    const int size = t.dims[d];
    if (size < 2) continue;
    for (int delta : {-1, +1}) {
      int v = c[d] + delta;
      if (v < 0 || v >= size) {
        if (!t.wrap[d]) continue;
        v = (v + size) % size;
      }
      if (delta == +1 && size == 2 && t.wrap[d]) continue;  // same as -1
      std::vector<int> n = c;
      n[d] = v;
      out->push_back(std::move(n));
    }
  }
}

int TorusDistance(const Torus& t, const std::vector<int>& a,
                  const std::vector<int>& b) {
  int dist = 0;
  for (size_t d = 0; d < t.dims.size(); ++d) {
    int diff = std::abs(a[d] - b[d]);
    if (t.wrap[d]) diff = std::min(diff, t.dims[d] - diff);
    dist += diff;
  }
  return dist;
}

uint64_t PackKey(const std::vector<int>& c) {
  uint64_t k = 0;
  for (int v : c) k = (k << 16) | static_cast<uint16_t>(v);
  return k;
}

// Per dimension, the cyclic (or, without wraparound, plain) interval the
// used coordinates fill; false when they leave a hole.
bool FindInterval(const std::vector<bool>& used, bool wrap, int* origin,
                  int* extent) {
  const int size = static_cast<int>(used.size());
  const int count =
      static_cast<int>(std::count(used.begin(), used.end(), true));
  if (count == size) {
    *origin = 0;
    *extent = size;
    return true;
  }
  int start = -1;
  for (int v = 0; v < size; ++v) {
    if (!used[v]) continue;
    const int prev = v - 1;
    const bool prev_used =
        prev >= 0 ? used[prev] : (wrap ? used[size - 1] : false);
    if (!prev_used) {
      start = v;
      break;
    }
  }
  if (start < 0) return false;
  int run = 0;
  int v = start;
  while (run < size && used[v]) {
    ++run;
    if (++v == size) {
      if (!wrap) break;
      v = 0;
    }
  }
  if (run != count) return false;
  *origin = start;
  *extent = count;
  return true;
}

}  // namespace

std::vector<int> SnakeCoords(int64_t i, std::span<const int> extent) {
  const size_t d = extent.size();
  std::vector<int> out(d, 0);
  // q[k] = i / (extent[0] * ... * extent[k-1]); coordinate k runs backwards
  // when q[k+1] (the number of completed sweeps of dimension k) is odd.
  std::vector<int64_t> q(d + 1);
  q[0] = i;
  for (size_t k = 0; k < d; ++k) q[k + 1] = q[k] / extent[k];
  for (size_t k = 0; k < d; ++k) {
    const int r = static_cast<int>(q[k] % extent[k]);
    out[k] = (q[k + 1] % 2 == 0) ? r : extent[k] - 1 - r;
  }
  return out;
}

StatusOr<Placement> PlaceTorusSnake(const Cluster& cluster,
                                    std::span<const VertexId> hosts) {
  DSTRAIN_RETURN_IF_ERROR(CheckAllocation(cluster, hosts));
  Torus t{cluster.fabric().torus_dims, cluster.fabric().torus_wrap};
  if (t.dims.empty()) {
    return InvalidArgument("cluster `" + cluster.name() +
                           "` has no torus dimensions (torus placement)");
  }
  if (t.wrap.size() != t.dims.size()) t.wrap.assign(t.dims.size(), true);
  const size_t nd = t.dims.size();
  std::vector<std::vector<int>> coords;
  coords.reserve(hosts.size());
  for (VertexId h : hosts) {
    const std::vector<int>& c = cluster.vertex(h).host.torus_coords;
    if (c.size() != nd) {
      return InvalidArgument("host `" + cluster.vertex(h).name + "` has " +
                             std::to_string(c.size()) +
                             " torus coordinates; the torus has " +
                             std::to_string(nd));
    }
    for (size_t d = 0; d < nd; ++d) {
      if (c[d] < 0 || c[d] >= t.dims[d]) {
        return InvalidArgument("host `" + cluster.vertex(h).name +
                               "` lies outside the torus");
      }
    }
    coords.push_back(c);
  }

  Placement p;
  p.kind = PlacementKind::kTorusSnake;
  const int64_t n = static_cast<int64_t>(hosts.size());

  // A box?
  bool box = true;
  std::vector<int> origin(nd), extent(nd);
  int64_t volume = 1;
  for (size_t d = 0; d < nd && box; ++d) {
    std::vector<bool> used(t.dims[d], false);
    for (const auto& c : coords) used[c[d]] = true;
    box = FindInterval(used, t.wrap[d], &origin[d], &extent[d]);
    volume *= extent[d];
  }
  box = box && volume == n;

  if (box) {
    p.method = "snake";
    p.box_origin = origin;
    p.box_extent = extent;
    p.hosts.reserve(n);
    std::vector<int> c(nd);
    for (int64_t i = 0; i < n; ++i) {
      const std::vector<int> rel = SnakeCoords(i, extent);
      for (size_t d = 0; d < nd; ++d) c[d] = (origin[d] + rel[d]) % t.dims[d];
      const VertexId h = cluster.HostAtCoords(c);
      if (h == kNoVertex) return Internal("snake: no host at a box position");
      p.hosts.push_back(h);
    }
  } else {
    p.method = "greedy walk";
    // Allocation index per vertex (-1: not allocated).
    std::vector<int32_t> index_of(cluster.num_vertices(), -1);
    for (int64_t i = 0; i < n; ++i)
      index_of[hosts[i]] = static_cast<int32_t>(i);
    auto allocated_at = [&](const std::vector<int>& c) -> int32_t {
      const VertexId h = cluster.HostAtCoords(c);
      return h == kNoVertex ? -1 : index_of[h];
    };
    std::vector<std::vector<int>> nbrs;
    std::vector<int> free_degree(n, 0);
    for (int64_t i = 0; i < n; ++i) {
      NeighborCoords(t, coords[i], &nbrs);
      for (const auto& c : nbrs)
        if (allocated_at(c) >= 0) ++free_degree[i];
    }
    std::vector<bool> visited(n, false);
    auto better = [&](int32_t a, int32_t b) {  // is a a better next than b
      if (b < 0) return true;
      if (free_degree[a] != free_degree[b])
        return free_degree[a] < free_degree[b];
      return coords[a] < coords[b];
    };
    auto visit = [&](int32_t i) {
      visited[i] = true;
      p.hosts.push_back(hosts[i]);
      NeighborCoords(t, coords[i], &nbrs);
      for (const auto& c : nbrs) {
        const int32_t j = allocated_at(c);
        if (j >= 0) --free_degree[j];
      }
    };
    int32_t current = -1;
    for (int32_t i = 0; i < n; ++i)
      if (better(i, current)) current = i;
    p.hosts.reserve(n);
    visit(current);
    while (static_cast<int64_t>(p.hosts.size()) < n) {
      int32_t next = -1;
      NeighborCoords(t, coords[current], &nbrs);
      for (const auto& c : nbrs) {
        const int32_t j = allocated_at(c);
        if (j >= 0 && !visited[j] && better(j, next)) next = j;
      }
      if (next < 0) {
        // Stuck: the nearest unvisited host, breadth-first over the torus
        // (bounded), then by a scan of every host.
        std::deque<std::vector<int>> queue{coords[current]};
        std::unordered_set<uint64_t> seen{PackKey(coords[current])};
        std::vector<std::vector<int>> around;
        while (!queue.empty() && next < 0 && seen.size() < 4096) {
          const std::vector<int> c = queue.front();
          queue.pop_front();
          NeighborCoords(t, c, &around);
          for (const auto& m : around) {
            if (!seen.insert(PackKey(m)).second) continue;
            const int32_t j = allocated_at(m);
            if (j >= 0 && !visited[j]) {
              if (next < 0 || coords[j] < coords[next]) next = j;
            }
            queue.push_back(m);
          }
        }
        if (next < 0) {
          int best = INT32_MAX;
          for (int32_t j = 0; j < n; ++j) {
            if (visited[j]) continue;
            const int dist = TorusDistance(t, coords[current], coords[j]);
            if (dist < best) {
              best = dist;
              next = j;
            }
          }
        }
      }
      visit(next);
      current = next;
    }
  }

  p.non_neighbor_hops = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    if (cluster.LinkBetween(p.hosts[i], p.hosts[i + 1]) == kNoLink)
      ++p.non_neighbor_hops;
  }
  p.ring_closes_at_neighbor =
      n == 1 || cluster.LinkBetween(p.hosts[n - 1], p.hosts[0]) != kNoLink;
  return p;
}

}  // namespace dstrain::topology
