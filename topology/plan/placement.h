#pragma once
// Placement: the order in which a job's hosts are visited by its ring.
// NCCL and Gloo build their inter-node ring, and NCCL its
// trees, over hosts in rank order, so the host order IS the ring. Ranks are
// then laid out host-contiguously (rank_layout.h).
//
// One algorithm per file, each documenting its cost:
//   fat_tree_placement.h  contiguous by pod, leaf switch, host
//   rail_placement.h      the same over rail-0 leaves, plus NCCL_CROSS_NIC=0
//   torus_placement.h     snake (boustrophedon) order, greedy walk otherwise
//   baseline_placement.h  hostname order and seeded random order
// Place() picks by the fabric's kind when asked for kAuto.
//
// Inputs are the Cluster (not owned; must outlive the call) and the
// allocated hosts, each a host vertex of that cluster, each once. Pure
// functions; thread-safe for a const Cluster.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

enum class PlacementKind {
  kAuto,           // by Cluster::fabric().kind; hostname order when unknown
  kFatTree,        // fat_tree_placement.h
  kRailOptimized,  // rail_placement.h
  kTorusSnake,     // torus_placement.h
  kHostname,       // baseline_placement.h
  kRandom,         // baseline_placement.h
};

// "auto", "fat-tree", "rail", "torus", "hostname", "random".
const char* PlacementKindName(PlacementKind kind);
StatusOr<PlacementKind> ParsePlacementKind(std::string_view name);

struct Placement {
  PlacementKind kind = PlacementKind::kHostname;
  std::vector<VertexId> hosts;  // ring order
  // How the order was made, for reports: "leaf-contiguous", "snake",
  // "greedy walk", "hostname", "random (seed 7)".
  std::string method;
  // Torus only (-1 elsewhere): consecutive hosts of `hosts` that are not
  // torus neighbours, and whether the last host neighbours the first.
  int non_neighbor_hops = -1;
  bool ring_closes_at_neighbor = false;
  // Torus only: when the hosts fill a box (a sub-block, possibly wrapping
  // around), its first corner and size per dimension; empty otherwise.
  std::vector<int> box_origin;
  std::vector<int> box_extent;
  // Environment the placement needs (e.g. {"NCCL_CROSS_NIC", "0"}).
  std::vector<std::pair<std::string, std::string>> env;
};

// Looks up host names; INVALID_ARGUMENT names the first unknown name, a
// switch given as a host, or a host given twice.
StatusOr<std::vector<VertexId>> ResolveHosts(
    const Cluster& cluster, std::span<const std::string> names);

// Checks an allocation: non-empty, every id a host of `cluster`, no host
// twice. INVALID_ARGUMENT names the offender.
Status CheckAllocation(const Cluster& cluster, std::span<const VertexId> hosts);

// Dispatches to the algorithm of `kind` (`seed` only matters for kRandom).
StatusOr<Placement> Place(const Cluster& cluster,
                          std::span<const VertexId> hosts,
                          PlacementKind kind = PlacementKind::kAuto,
                          uint64_t seed = 1);

}  // namespace dstrain::topology
