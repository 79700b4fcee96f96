#pragma once
// 2D/3D torus all-reduce as sub-communicators, for hosts that
// fill a box of the torus (torus_placement.h finds the box). With extents
// e_x, e_y (, e_z) and g ranks per host:
//
//   0. g > 1: intra-host reduce-scatter (ring of g) so each local rank
//      carries S' = S/g, and an intra-host all-gather at the end;
//   1. reduce-scatter along x (ring of e_x over torus neighbours): S'/e_x;
//   2. all-reduce along y of that slice, then along z (rings of e_y, e_z);
//   3. all-gather along x.
//
// Every ring is a line of the torus, so each hop is one link (and the
// closing hop too when the box spans a wrapped dimension), and the lines of
// one dimension use disjoint links (the g lines of one host's local ranks
// share its links, so a link carries g·S'/e = S/e). Cost, per-link α, β:
//
//   t = 2(e_x-1)(α + Sβ/e_x) + 2(e_y-1)(α + Sβ/(e_x·e_y))
//       + 2(e_z-1)(α + Sβ/(e_x·e_y·e_z))  [+ intra-host phases]
//
// Latency: 2(e_x + e_y + e_z - 3) steps instead of the flat ring's
// 2(e_x·e_y·e_z - 1); bandwidth within a few percent of the ring's.
//
// Sub-communicators: "torus_x", "torus_y", "torus_z" (by torus dimension;
// only those whose extent exceeds 1): colour = the host's line (its other
// coordinates and its local rank), key = its coordinate along the
// dimension; plus "intra_node" when g > 1.
//
// O(n·d) time and memory.

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"
#include "topology/plan/placement.h"
#include "topology/plan/plan.h"
#include "topology/plan/schedule.h"

namespace dstrain::topology {

// Hosts in placement order with box-relative coordinates.
struct TorusLayout {
  std::vector<int> extent;               // per torus dimension, >= 1
  std::vector<std::vector<int>> coords;  // per node, 0 <= c[d] < extent[d]
};

// FAILED_PRECONDITION when the placement found no box (an irregular
// allocation: the torus algorithm needs whole lines).
StatusOr<TorusLayout> TorusLayoutOf(const Cluster& cluster,
                                    const Placement& placement);

// INVALID_ARGUMENT when the layout does not fill its box exactly once.
Status ValidateTorusLayout(const TorusLayout& layout);

std::vector<SubCommunicator> TorusCommunicators(const TorusLayout& layout,
                                                int32_t ranks_per_node);

Schedule TorusAllReduce(const TorusLayout& layout, int32_t ranks_per_node);

}  // namespace dstrain::topology
