#pragma once
// A collective's schedule as data: who sends how much to whom, step by
// step, independent of the message size and of the fabric. Algorithm
// builders (ring.h, double_binary_tree.h, ...) produce one; the simulator
// (sim/simulator.h) routes it over a Cluster; validators check it.
//
// Ranks are 0..n-1 of a host-contiguous layout: rank = node * ranks_per_node
// + local, where "node" is the position of a host in the placement's order
// (plan/placement.h). A Transfer moves `fraction` x S bytes, S being the
// collective's message size (the per-rank buffer of an all-reduce), so one
// schedule serves every message size.
//
// Two kinds of phases:
//  - kSteps: `steps` synchronous steps that all carry the same transfers
//    (a ring's 2(n-1) steps). Time = steps x (slowest transfer latency +
//    max over links of load / bandwidth). Repetition is what makes a
//    65,536-rank ring cheap to simulate: one step is routed, then multiplied.
//  - kPipelined: one stream cut into small chunks (NCCL's tree). The
//    transfers carry the whole operation's bytes; time = the bottleneck
//    link's total load / bandwidth + the pipeline's fill along its critical
//    path (`host_hops` intra-host and `net_hops` network hops, each costing
//    its latency plus one chunk's serialisation).
//
// Plain values; thread-compatible.

#include <cstdint>
#include <string>
#include <vector>

namespace dstrain::topology {

struct Transfer {
  int32_t src = 0;      // sending rank
  int32_t dst = 0;      // receiving rank
  double fraction = 0;  // bytes = fraction x message size
};

enum class PhaseKind { kSteps, kPipelined };

struct Phase {
  std::string name;  // e.g. "ring", "reduce-scatter x", "tree"
  PhaseKind kind = PhaseKind::kSteps;
  int64_t steps = 1;  // kSteps: identical steps
  // kPipelined: hops on the critical path and the chunk, as a fraction of
  // the message size, that fills it (capped by SimOptions' chunk bytes).
  int host_hops = 0;
  int net_hops = 0;
  double chunk_fraction = 0;
  std::vector<Transfer> transfers;
};

struct Schedule {
  std::string algorithm;  // AlgorithmName() of the builder
  int32_t nranks = 0;
  int32_t ranks_per_node = 1;
  std::vector<Phase> phases;  // run one after the other
};

}  // namespace dstrain::topology
