#pragma once
// Baseline placements, the orders a launcher uses when it knows nothing of
// the network; benchmarks and `dstrain topo plan` compare plans against them.
//
//  - PlaceByHostname: hosts in natural name order ("gpu2" < "gpu10": runs
//    of digits compare as numbers), which is how Slurm lists a node set.
//    Cost: O(n log n) comparisons of names.
//  - PlaceRandom: a seeded uniform shuffle (Fisher-Yates over
//    std::mt19937_64 with an exact bounded draw, so the order is the same
//    with every standard library). Cost: O(n).
//
// Both first check the allocation (placement.h: CheckAllocation).

#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"
#include "topology/plan/placement.h"

namespace dstrain::topology {

// Natural order: true when `a` sorts before `b`.
bool NaturalLess(std::string_view a, std::string_view b);

StatusOr<Placement> PlaceByHostname(const Cluster& cluster,
                                    std::span<const VertexId> hosts);

StatusOr<Placement> PlaceRandom(const Cluster& cluster,
                                std::span<const VertexId> hosts, uint64_t seed);

}  // namespace dstrain::topology
