#pragma once
// Torus placement: a ring order whose consecutive hosts are
// torus neighbours, so every ring hop is one link and no two hops share one.
//
//  - The hosts fill a box (the whole torus or a sub-block, which may wrap
//    around an edge): a snake (boustrophedon) order, the reflected
//    mixed-radix Gray code over the box's coordinates with x fastest. Every
//    consecutive pair differs by one in one coordinate, so all n-1 hops are
//    neighbours; on a whole torus with even sizes the last host also
//    neighbours the first (the ring closes over a wraparound link).
//  - Otherwise (an irregular allocation, where a Hamiltonian snake need
//    not exist): a greedy walk that steps to the unvisited allocated
//    neighbour with the fewest unvisited allocated neighbours (Warnsdorff's
//    rule; ties by smallest coordinates) and, when stuck, jumps to the
//    nearest unvisited host (breadth-first over the torus, then a scan).
//
// Either way the result reports `non_neighbor_hops` (consecutive hosts
// without a direct link in the Cluster) and whether the ring closes at a
// neighbour. Needs every host to carry torus coordinates (and the fabric's
// dimensions); INVALID_ARGUMENT otherwise.
//
// Cost: snake O(n) plus O(n) coordinate lookups; greedy walk O(n * 2d) plus,
// per jump, a bounded breadth-first search (at most 4,096 cells) or an O(n)
// scan.

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "topology/plan/placement.h"

namespace dstrain::topology {

StatusOr<Placement> PlaceTorusSnake(const Cluster& cluster,
                                    std::span<const VertexId> hosts);

// The i-th position (0 <= i < product(extent)) of the snake over a box of
// these sizes: reflected mixed-radix Gray code, dimension 0 fastest.
std::vector<int> SnakeCoords(int64_t i, std::span<const int> extent);

}  // namespace dstrain::topology
