#include "topology/plan/baseline_placement.h"

#include <algorithm>
#include <random>
#include <string>

namespace dstrain::topology {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A uniform draw in [0, bound) without the modulo bias and without
// std::uniform_int_distribution (whose algorithm differs between libraries).
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % bound;
}

}  // namespace

bool NaturalLess(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      // Compare the digit runs as numbers: skip leading zeros, then the
      // longer run is larger, then digit by digit.
      size_t i0 = i, j0 = j;
      while (i0 < a.size() && a[i0] == '0') ++i0;
      while (j0 < b.size() && b[j0] == '0') ++j0;
      size_t i1 = i0, j1 = j0;
      while (i1 < a.size() && IsDigit(a[i1])) ++i1;
      while (j1 < b.size() && IsDigit(b[j1])) ++j1;
      if (i1 - i0 != j1 - j0) return i1 - i0 < j1 - j0;
      const int c = a.substr(i0, i1 - i0).compare(b.substr(j0, j1 - j0));
      if (c != 0) return c < 0;
      // Equal values: fewer leading zeros first, so the order is total.
      if (i1 - i != j1 - j) return i1 - i < j1 - j;
      i = i1;
      j = j1;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

StatusOr<Placement> PlaceByHostname(const Cluster& cluster,
                                    std::span<const VertexId> hosts) {
  DSTRAIN_RETURN_IF_ERROR(CheckAllocation(cluster, hosts));
  Placement p;
  p.kind = PlacementKind::kHostname;
  p.method = "hostname";
  p.hosts.assign(hosts.begin(), hosts.end());
  std::sort(p.hosts.begin(), p.hosts.end(), [&](VertexId x, VertexId y) {
    return NaturalLess(cluster.vertex(x).name, cluster.vertex(y).name);
  });
  return p;
}

StatusOr<Placement> PlaceRandom(const Cluster& cluster,
                                std::span<const VertexId> hosts,
                                uint64_t seed) {
  DSTRAIN_RETURN_IF_ERROR(CheckAllocation(cluster, hosts));
  Placement p;
  p.kind = PlacementKind::kRandom;
  p.method = "random (seed " + std::to_string(seed) + ")";
  // Start from hostname order so the result depends on the seed and the
  // set of hosts only, not on the order the caller listed them in.
  p.hosts.assign(hosts.begin(), hosts.end());
  std::sort(p.hosts.begin(), p.hosts.end(), [&](VertexId x, VertexId y) {
    return NaturalLess(cluster.vertex(x).name, cluster.vertex(y).name);
  });
  std::mt19937_64 rng(seed);
  for (size_t i = p.hosts.size(); i > 1; --i) {
    std::swap(p.hosts[i - 1], p.hosts[UniformBelow(rng, i)]);
  }
  return p;
}

}  // namespace dstrain::topology
