#pragma once
// Routes between hosts of a Cluster, as the simulator charges them.
//
//  - Fat-tree and rail-optimized fabrics (and any fabric whose hosts hang
//    off level-0 switches): up-down routing. From the source port's leaf,
//    go up until a switch from which the destination leaf lies below, then
//    down. Where several links qualify (ECMP), a hash of (source host,
//    destination host, level) picks one, as switches hash flows: the choice
//    is deterministic and spreads different pairs over different uplinks.
//  - Tori: dimension-order routing, dimension 0 first, each the shortest
//    way around (wraparound where the dimension wraps; ties go up).
//  - Anything else, or a torus hop whose link is missing: a breadth-first
//    shortest path (first found), for small hand-written fabrics.
//
// A host's network ports are its links to switches, in adjacency order;
// hosts of a torus have no ports (their links are the torus).
//
// Create() is O(S·L/64 + E) (S switches, L leaves: a bitset of the leaves
// below every switch); Route() is O(levels · switch degree) on trees,
// O(hops) on tori, O(V + E) for the fallback. A Router keeps a pointer to
// the Cluster, which must outlive it. Const methods are thread-safe.

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

// One link crossed in one direction.
struct Hop {
  LinkId link = kNoLink;
  bool forward = true;  // from Link::a to Link::b
  // Index of this direction in per-direction arrays: 2 * link + !forward.
  int32_t direction() const { return 2 * link + (forward ? 0 : 1); }
};

class Router {
 public:
  static StatusOr<Router> Create(const Cluster& cluster);

  enum class Mode { kUpDown, kDimensionOrder, kShortestPath };
  Mode mode() const { return mode_; }

  // A host's ports: links to switches (empty on tori).
  const std::vector<LinkId>& Ports(VertexId host) const { return ports_[host]; }

  // Appends the hops from `src` to `dst` (two distinct hosts) to `out`.
  // `src_port` / `dst_port` index Ports() (ignored when the host has none).
  // NOT_FOUND when no path exists.
  Status Route(VertexId src, int src_port, VertexId dst, int dst_port,
               std::vector<Hop>* out) const;

 private:
  explicit Router(const Cluster& cluster) : cluster_(&cluster) {}
  bool Below(VertexId sw, int leaf_index) const;
  Status RouteUpDown(VertexId src, int src_port, VertexId dst, int dst_port,
                     std::vector<Hop>* out) const;
  Status RouteTorus(VertexId src, VertexId dst, std::vector<Hop>* out) const;
  Status RouteShortest(VertexId src, VertexId dst, std::vector<Hop>* out) const;
  Hop HopOver(LinkId link, VertexId from) const;

  const Cluster* cluster_;
  Mode mode_ = Mode::kShortestPath;
  std::vector<std::vector<LinkId>> ports_;  // per vertex (hosts only)
  // Up-down: leaf index per vertex (-1 for non-leaves) and, per switch,
  // a bitset of the leaves reachable by going only down.
  std::vector<int32_t> leaf_index_;
  int words_ = 0;
  std::vector<uint64_t> below_;  // [switch * words_ + w]
};

// A well-mixed 64-bit hash (splitmix64's finaliser), for ECMP choices.
uint64_t MixHash(uint64_t x);

}  // namespace dstrain::topology
