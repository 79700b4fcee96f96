#pragma once
// Test helper (plan/ and sim/ tests only): random fabrics from the model's
// generators and random allocations on them, for property tests. Each draw
// describes itself in `spec` so a failure names the fabric it broke on.

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "topology/model/generators.h"

namespace dstrain::topology::testing {

enum class FabricFamily { kFatTree2, kFatTree3, kRail, kTorus };

struct TestFabric {
  std::string spec;
  Cluster cluster;
};

inline int Draw(std::mt19937_64& rng, int lo, int hi) {  // [lo, hi]
  return lo + static_cast<int>(rng() % static_cast<uint64_t>(hi - lo + 1));
}

// A random fabric of `family`; generator options that do not fit (a radix
// the oversubscription does not divide) are drawn again.
inline TestFabric RandomFabric(std::mt19937_64& rng, FabricFamily family) {
  for (;;) {
    TestFabric f;
    StatusOr<Cluster> c = InvalidArgument("none");
    if (family == FabricFamily::kFatTree2 ||
        family == FabricFamily::kFatTree3) {
      FatTreeOptions o;
      o.levels = family == FabricFamily::kFatTree2 ? 2 : 3;
      const int ks[] = {4, 6, 8, 12};
      o.k = ks[Draw(rng, 0, 3)];
      const double os[] = {1, 2, 3};
      o.oversubscription = os[Draw(rng, 0, 2)];
      o.devices_per_host = Draw(rng, 1, 8);
      o.nics_per_host = Draw(rng, 1, 2);
      o.hosts = Draw(rng, 1, o.levels == 2 ? 40 : 120);
      f.spec = "fat-tree levels=" + std::to_string(o.levels) +
               " k=" + std::to_string(o.k) +
               " o=" + std::to_string(o.oversubscription) +
               " hosts=" + std::to_string(o.hosts) +
               " devices=" + std::to_string(o.devices_per_host) +
               " nics=" + std::to_string(o.nics_per_host);
      c = MakeFatTree(o);
    } else if (family == FabricFamily::kRail) {
      RailOptimizedOptions o;
      o.levels = Draw(rng, 1, 2);
      o.k = 2 * Draw(rng, 2, 6);
      o.rails = Draw(rng, 1, 4);
      o.devices_per_host = o.rails * Draw(rng, 1, 2);
      o.hosts = Draw(rng, 1, 40);
      f.spec = "rail levels=" + std::to_string(o.levels) +
               " k=" + std::to_string(o.k) +
               " rails=" + std::to_string(o.rails) +
               " hosts=" + std::to_string(o.hosts) +
               " devices=" + std::to_string(o.devices_per_host);
      c = MakeRailOptimized(o);
    } else {
      TorusOptions o;
      const int nd = Draw(rng, 2, 3);
      for (int d = 0; d < nd; ++d) o.dims.push_back(Draw(rng, 1, 6));
      o.wraparound = Draw(rng, 0, 1) == 1;
      o.devices_per_host = Draw(rng, 1, 4);
      f.spec = "torus dims=";
      for (int d : o.dims) f.spec += std::to_string(d) + "x";
      f.spec += std::string(" wrap=") + (o.wraparound ? "1" : "0") +
                " devices=" + std::to_string(o.devices_per_host);
      c = MakeTorus(o);
    }
    if (!c.ok()) continue;
    f.cluster = std::move(c).value();
    return f;
  }
}

// A random non-empty subset of the hosts, in random order.
inline std::vector<VertexId> RandomAllocation(std::mt19937_64& rng,
                                              const Cluster& cluster) {
  std::vector<VertexId> hosts(cluster.hosts().begin(), cluster.hosts().end());
  for (size_t i = hosts.size(); i > 1; --i)
    std::swap(hosts[i - 1], hosts[rng() % i]);
  hosts.resize(Draw(rng, 1, static_cast<int>(hosts.size())));
  return hosts;
}

// The hosts of a random box of the torus (wrapping around where it wraps).
inline std::vector<VertexId> RandomBox(std::mt19937_64& rng,
                                       const Cluster& cluster) {
  const auto& dims = cluster.fabric().torus_dims;
  const auto& wrap = cluster.fabric().torus_wrap;
  std::vector<int> origin(dims.size()), extent(dims.size());
  for (size_t d = 0; d < dims.size(); ++d) {
    extent[d] = Draw(rng, 1, dims[d]);
    origin[d] =
        wrap[d] ? Draw(rng, 0, dims[d] - 1) : Draw(rng, 0, dims[d] - extent[d]);
  }
  std::vector<VertexId> out;
  for (VertexId h : cluster.hosts()) {
    const auto& c = cluster.vertex(h).host.torus_coords;
    bool inside = true;
    for (size_t d = 0; d < dims.size(); ++d) {
      const int rel = ((c[d] - origin[d]) % dims[d] + dims[d]) % dims[d];
      inside = inside && rel < extent[d];
    }
    if (inside) out.push_back(h);
  }
  for (size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[rng() % i]);
  return out;
}

}  // namespace dstrain::topology::testing
