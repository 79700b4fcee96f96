#pragma once
// Graphviz for `dstrain topo ... --dot`: the fabric (switches as boxes by
// level, hosts as ellipses, parallel links merged into one edge labelled
// with their count and bandwidth) and the ring drawn over it (red arrows
// host to host in ring order, closing back to the first).
//
// Only the part of the fabric the allocation uses is drawn: its hosts and
// the switches above them (every switch reachable from a host by going up
// levels), or on fabrics without switches the hosts and their links. When
// that is more than `max_vertices`, hosts are folded into one box per leaf
// ("leaf0: node[0-15]") and the ring goes leaf box to leaf box; when even
// that is too big the answer is INVALID_ARGUMENT saying so (the caller
// points at --nodes / --num-nodes). Output is deterministic. Pure function;
// thread-safe for a const Cluster.

#include <span>
#include <string>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::cli {

StatusOr<std::string> FabricDot(const topology::Cluster& cluster,
                                std::span<const topology::VertexId> ring,
                                int max_vertices = 200);

}  // namespace dstrain::cli
