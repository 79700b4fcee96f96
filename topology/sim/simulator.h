#pragma once
// The link-load simulator: routes every transfer of a schedule
// (plan/schedule.h) over a Cluster, charges every link, per direction, the
// bytes it carries, and predicts the collective's time.
//
// Model (alpha-beta with contention):
//  - A transfer between ranks of one host crosses the host's interconnect
//    (NVLink / PCIe / memory), modelled per rank: each rank has
//    `host_bandwidth` out and in, and a hop costs `host_latency`.
//  - A transfer between hosts is striped over the sending host's network
//    ports (links to leaf switches) in proportion to their bandwidth, as
//    NCCL spreads its channels over NICs: port i pairs with the receiver's
//    port of the same rail when `rail_aligned` (NCCL_CROSS_NIC=0), else
//    with port i + (receiver's local rank - sender's local rank), the NIC
//    the receiving rank would use; where that pair has no network path
//    (rail-optimized fabrics with one spine plane per rail), the stripe
//    lands on the receiver's NIC of its own rail, as NCCL's PXN does (the
//    copy inside the receiving host is not charged). Each stripe is routed
//    by the Router
//    (up-down with ECMP on trees, dimension order on tori). Its latency is
//    `message_overhead` plus the sum of its links' latencies.
//  - kSteps phase: a step's time = max over links and rank ports of
//    load / bandwidth + the slowest transfer's latency; the phase repeats
//    it `steps` times (a ring's 2(n-1) steps are routed once).
//  - kPipelined phase: the bottleneck's total load / bandwidth + the fill:
//    host_hops x (host latency + chunk / host bandwidth) + net_hops x
//    (network latency + chunk / the slowest stripe set's bandwidth), with
//    chunk = min(pipeline_chunk_bytes, chunk_fraction x S).
// Loads are linear in S, so one simulation gives a CostCurve that answers
// for every message size.
//
// Cost: O(T · h) for T transfers (network transfers x stripes) of h hops,
// plus O(links) per phase. A 65,536-rank ring: ~74k routes, milliseconds.
// Pure function of its inputs; thread-safe for a const Cluster and Router.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"
#include "topology/plan/schedule.h"
#include "topology/sim/cost_model.h"
#include "topology/sim/router.h"

namespace dstrain::topology {

struct SimOptions {
  double host_bandwidth = GBpsToBytesPerSecond(450);  // per rank, each way
  double host_latency = 0.5e-6;    // seconds per intra-host hop
  double message_overhead = 1e-6;  // seconds per message, any hop
  double pipeline_chunk_bytes = 512 * 1024;
  bool rail_aligned = false;  // NCCL_CROSS_NIC=0
};

// Which host and local rank each rank of a schedule runs on.
struct RankMap {
  std::vector<VertexId> host;  // per rank
  std::vector<int32_t> local;  // per rank
};
// rank = node * ranks_per_node + local over `hosts` in ring order.
RankMap RankMapFor(std::span<const VertexId> hosts, int32_t ranks_per_node);

// Bytes through one direction of a link (or one rank's host port) over the
// whole collective, per byte of message, and its busy time per byte.
struct LinkUse {
  std::string from;  // vertex name; "host/rank N" for a host port
  std::string to;
  bool host_internal = false;
  double bytes_per_byte = 0;
  double busy_seconds_per_byte = 0;
};

struct PhaseCost {
  std::string name;
  PhaseKind kind = PhaseKind::kSteps;
  int64_t steps = 1;
  // kSteps: one step = latency + S * seconds_per_byte.
  // kPipelined: seconds_per_byte covers the whole phase.
  double latency = 0;
  double seconds_per_byte = 0;
  // kPipelined fill.
  int host_hops = 0;
  int net_hops = 0;
  double chunk_fraction = 0;
  double host_latency = 0;
  double net_latency = 0;
  double host_chunk_bandwidth = 0;
  double net_chunk_bandwidth = 0;
  LinkUse hottest;  // the phase's most loaded link (one step for kSteps)

  double Seconds(double bytes, double chunk_bytes) const;
};

struct CostCurve {
  std::string algorithm;
  int32_t nranks = 0;
  double chunk_bytes = 0;
  std::vector<PhaseCost> phases;
  LinkUse hottest;  // busiest link over the whole collective

  double Seconds(double bytes) const;
};

// Routes `schedule` with ranks placed by `ranks`. INVALID_ARGUMENT when a
// transfer names a rank outside the map; NOT_FOUND when a route is missing.
StatusOr<CostCurve> Simulate(const Cluster& cluster, const Router& router,
                             const RankMap& ranks, const Schedule& schedule,
                             const SimOptions& options);

// What this placement can send at once (cost_model.h), for the lower
// bound: per host the bandwidth of all its links (whatever a route leaves
// by: ports on trees, the torus links, any link of a hand-written
// fabric), and options.host_bandwidth per rank on hosts with several.
// O(ranks + the hosts' degrees).
FabricCapacity FabricCapacityFor(const Cluster& cluster, const RankMap& ranks,
                                 const SimOptions& options);

struct Prediction {
  double bytes = 0;
  double seconds = 0;
  double algbw = 0;                // bytes/s
  double busbw = 0;                // bytes/s
  double lower_bound_seconds = 0;  // CollectiveLowerBound
  LinkUse hottest;
  double hottest_utilization = 0;  // busy time / total time
};

Prediction Predict(const CostCurve& curve, Collective collective, double bytes,
                   const FabricCapacity& capacity);

}  // namespace dstrain::topology
