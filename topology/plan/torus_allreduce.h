#pragma once
// The torus all-reduce, for hosts that fill a box of the torus
// (torus_placement.h finds the box): the buffer split into parts that run
// at once, each reduce-scattering along every dimension in its own order
// and direction and all-gathering back (common/contract/torus_parts.h says
// which parts; the workers run the same description,
// worker/comm/torus_parts_allreduce.h). With g ranks per host each part
// first reduce-scatters inside the host, so each local rank's line carries
// 1/g of it.
//
// Cost. A part of share 1/P enters level k (dimension of extent e_k) with
// S/(P·g·E_k) per rank, E_k = e_0···e_(k-1), and a ring of e_k moves
// 2(e_k-1)/e_k of that over one direction of the dimension's links; the
// host's g lines share them, so a link carries g times that. The parts are
// arranged so that at every level they use different dimensions and
// directions: every link of the box carries data both ways at once, and a
// host's network load, 2(H-1)/H·S over all 2·d of its links, is what the
// link bound counts. The parts' stages overlap as a pipeline (the host
// stage of one part while another is on the network), so the time is the
// busiest link's load over its bandwidth plus the pipeline's fill:
//   t ≈ max_link(load)/B + 2(g-1)(α_h + c/B_h) + Σ_k 2(e_k-1)(α + c/B)
// with c the pipeline's chunk. The schedule is one kPipelined phase whose
// transfers carry the whole operation's bytes (plan/schedule.h).
//
// Every hop is to a box neighbour along one dimension with the same local
// rank (the closing hop of a ring too: one link when the box spans a
// wrapped dimension), or to the next local rank inside the host;
// ValidateTorusAllReduce checks a schedule for that.
//
// O(n·d·P) time, O(n·d) memory.

#include <cstdint>
#include <vector>

#include "common/contract/torus_parts.h"
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

// The parts' sub-communicators, named as contract::TorusPartCommName and
// TorusPartLocalCommName say.
std::vector<SubCommunicator> TorusCommunicators(const TorusLayout& layout,
                                                int32_t ranks_per_node);

Schedule TorusAllReduce(const TorusLayout& layout, int32_t ranks_per_node);

// INVALID_ARGUMENT naming the first transfer that is not a hop the torus
// all-reduce makes (box neighbours along one dimension, same local rank;
// or the next local rank of the host), or the first rank that does not
// send its full share (every part, every level, once).
Status ValidateTorusAllReduce(const TorusLayout& layout, int32_t ranks_per_node,
                              const Schedule& s);

}  // namespace dstrain::topology
