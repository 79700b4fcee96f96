#pragma once
// Bisection bandwidth of an allocation for `dstrain topo show/plan`: the
// max-flow (= min-cut) between the first and the second half of the hosts
// in the given order, every link full duplex with its bandwidth each way.
// With the hosts in placement order this is the bandwidth across the cut a
// ring's two halves see; on complete k-ary fat-trees it is hosts/2 · B / o
// (2 levels), as the generator tests check.
//
// Dinic's algorithm, O(V²·E) worst case, fast on these graphs (a
// 16x16x16 torus or a 1,024-host 3-level tree: well under a second).
// Returns -1 (not computed) for fewer than 2 hosts or more than
// `max_vertices` vertices. Pure function; thread-safe for a const Cluster.

#include <span>

#include "topology/model/cluster.h"

namespace dstrain::cli {

double BisectionBandwidth(const topology::Cluster& cluster,
                          std::span<const topology::VertexId> hosts_in_order,
                          int max_vertices = 100000);

}  // namespace dstrain::cli
