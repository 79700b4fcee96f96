#pragma once
// Closed-form alpha-beta costs of the all-reduce algorithms (Thakur,
// Rabenseifner, Gropp, "Optimization of Collective Communication Operations
// in MPICH", 2005) and the bandwidth lower bound. The nccl-tests figures
// (algbw, busbw) are common/bus_bandwidth.h's, the ones `dstrain bench
// comm` measures.
//
// Notation: n ranks, S bytes per rank (the buffer every rank contributes
// and receives), α seconds per message (latency), B bytes/s per rank
// (β = 1/B). Each function states its formula; each is a pure function,
// O(1) unless noted, thread-safe. The link-load simulator (simulator.h)
// reproduces the ring formula exactly on an uncontended fabric; the others
// are what it predicts without contention.

#include <cstdint>
#include <vector>

#include "common/bus_bandwidth.h"

namespace dstrain::topology {

// Lower bound for all-reduce among n ranks that each send and receive at
// B and talk only to each other: every rank must send (and receive) at
// least 2(n-1)/n·S bytes (a reduce-scatter's share plus an all-gather's):
//   t >= 2(n-1)/n · S/B.
// Not a bound for ranks that share a host and talk inside it over faster
// links: CollectiveLowerBound is, for a fabric.
double AllReduceLowerBound(int64_t n, double bytes, double bandwidth);

// What a fabric lets a placement send at once, for CollectiveLowerBound
// (simulator.h's FabricCapacityFor reads it off a Cluster). Bytes/s, one
// direction (every link and port carries as much each way).
struct FabricCapacity {
  int64_t hosts = 0;  // H: distinct hosts
  int64_t ranks = 0;  // n
  // Σ over hosts of B_h, a host's network bandwidth (all its links), and
  // the smallest B_h.
  double network_bandwidth = 0;
  double min_host_bandwidth = 0;
  // A rank's port inside its host, and the sum of those ports over the
  // ranks that share a host (0 when every host runs one rank).
  double rank_port_bandwidth = 0;
  double intra_bandwidth = 0;
};

// A lower bound on the time of `c` over S bytes (the nccl-tests size)
// that no algorithm on this fabric beats, from two cuts (latency left
// out), with k = 2 for all-reduce and 1 for all-gather, reduce-scatter and
// broadcast:
//  - hosts: in all at least k(H-1)·S bytes must cross between hosts
//    (every host must send, for all-reduce, and receive, its part), over
//    Σ B_h: on uniform hosts k(H-1)/H · S/B_h. For all-reduce each host
//    also sends at least S itself: S / min B_h.
//  - ranks: in all at least k(n-1)·S bytes must leave ranks, inside hosts
//    over the ranks' ports or between hosts over the network:
//    k(n-1)·S / (intra_bandwidth + Σ B_h [H >= 2]). With one rank per host
//    it is the host cut; with one host, k(n-1)/n · S/B_rank.
// The largest of them; 0 for one rank, a barrier, or no capacity.
double CollectiveLowerBound(Collective c, const FabricCapacity& f,
                            double bytes);

// Ring: t = 2(n-1)·α + 2(n-1)/n · S/B.
double RingAllReduceTime(int64_t n, double bytes, double alpha,
                         double bandwidth);
// Ring reduce-scatter or all-gather: t = (n-1)·α + (n-1)/n · S/B.
double RingReduceScatterTime(int64_t n, double bytes, double alpha,
                             double bandwidth);

// Rabenseifner (recursive halving reduce-scatter + recursive doubling
// all-gather); p the largest power of two <= n:
//   n == p: t = 2·log2(p)·α + 2(p-1)/p · S/B
//   n >  p: t = 2(log2(p)+1)·α + (2(p-1)/p + 2) · S/B   (fold in, fold out)
double RecursiveHalvingDoublingTime(int64_t n, double bytes, double alpha,
                                    double bandwidth);

// NCCL's double binary tree over `nodes` nodes of g ranks, pipelined
// (double_binary_tree.h): with D the deeper tree's depth, c = min(chunk,
// S/2) the pipeline chunk and B = min(node network, host-internal per rank):
//   t = 2(g-1)·(α_host + c/B_host) + 2D·(α + c/B_net) + 2·S/B
// O(n) (builds the trees to measure D).
struct TreeParams {
  int64_t nodes = 1;
  int64_t ranks_per_node = 1;
  double alpha = 0;           // network hop latency
  double bandwidth = 0;       // a node's network bandwidth
  double host_alpha = 0;      // intra-host hop latency
  double host_bandwidth = 0;  // per rank, each direction
  double chunk_bytes = 512 * 1024;
};
double DoubleBinaryTreeTime(const TreeParams& p, double bytes);

// Two-level hierarchical (hierarchical.h), N nodes of g ranks:
//   t = 2(g-1)·(α_h + S/(g·B_h)) + 2(N-1)·(α + S/(N·B))
// B: a node's network bandwidth (shared by its g inter-node rings);
// B_h: host-internal bandwidth per rank.
double HierarchicalAllReduceTime(int64_t nodes, int64_t ranks_per_node,
                                 double bytes, double alpha, double bandwidth,
                                 double host_alpha, double host_bandwidth);

// Torus (torus_allreduce.h) on a full torus of d wrapped dimensions of
// extent e >= 3 each (H = e^d hosts), g ranks per host, per-link α and B,
// host α_h and B_h per rank, pipeline chunk c = min(chunk, S/(2d·g·e)),
// one step of a part's first ring: the
// 2d parts load every direction of every link alike, so
//   t = max(S(1 - 1/H)/(d·B), 2(g-1)/g·S/B_h)
//       + 2(g-1)(α_h + c/B_h) + 2d(e-1)(α + c/B)
// — the link bound plus the pipeline's fill.
double TorusAllReduceTime(int dims, int extent, int64_t ranks_per_node,
                          double bytes, double alpha, double bandwidth,
                          double host_alpha, double host_bandwidth,
                          double chunk_bytes);

}  // namespace dstrain::topology
