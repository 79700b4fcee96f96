#pragma once
// The planner: from a Cluster and the hosts a job got, the Plan (plan.h):
// placement, rank layout, the all-reduce algorithm per message-size range
// chosen with the link-load simulator, the sub-communicators those
// algorithms need, and the environment.
//
//   BuildPlan      what the coordinator and `dstrain topo plan` call
//   BuildSchedule  the schedule of one algorithm over a plan's layout
//   EvaluateAlgorithms / ChooseRanges  the cost-model step, exposed for
//                  reports (`dstrain topo simulate`) and benchmarks
//
// Cost: placement (see its file) + one simulation per applicable algorithm
// (ring O(n), tree O(n), hierarchical O(n), torus O(n), recursive
// halving/doubling O(n log n) routes) + ValidatePlan. 65,536 ranks on a
// 3-level fat-tree: well under a second (bench/topology).
// Pure functions; thread-safe for a const Cluster.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"
#include "topology/plan/placement.h"
#include "topology/plan/plan.h"
#include "topology/plan/schedule.h"
#include "topology/sim/router.h"
#include "topology/sim/simulator.h"

namespace dstrain::topology {

struct PlanOptions {
  PlacementKind placement = PlacementKind::kAuto;
  uint64_t seed = 1;           // for PlacementKind::kRandom
  int32_t ranks_per_node = 0;  // 0: the hosts' smallest device count (>= 1)
  // Forces one algorithm for every size (and NCCL_ALGO where NCCL has it);
  // otherwise the cost model picks among `candidates` (empty: all that
  // apply to the fabric and allocation).
  std::optional<Algorithm> algorithm;
  std::vector<Algorithm> candidates;
  // The sizes the choice is made over (ranges outside extend the ends).
  int64_t min_bytes = 1;
  int64_t max_bytes = int64_t{16} << 30;
  SimOptions sim;  // rail_aligned is set from the placement's environment
};

StatusOr<Plan> BuildPlan(const Cluster& cluster,
                         std::span<const VertexId> hosts,
                         const PlanOptions& options = {});

// FAILED_PRECONDITION when `algorithm` does not apply (torus without a box
// of at least two dimensions, hierarchical with one rank per host).
StatusOr<Schedule> BuildSchedule(const Cluster& cluster, const Plan& plan,
                                 Algorithm algorithm);

// The options' simulator settings as the plan wants them (rail alignment
// from its environment).
SimOptions SimOptionsFor(const Plan& plan, SimOptions base);

struct AlgorithmCurve {
  Algorithm algorithm = Algorithm::kRing;
  CostCurve curve;
};

// Simulates every applicable candidate (all when `candidates` is empty).
StatusOr<std::vector<AlgorithmCurve>> EvaluateAlgorithms(
    const Cluster& cluster, const Router& router, const Plan& plan,
    const SimOptions& sim, std::span<const Algorithm> candidates = {});

// The fastest curve per size over [min_bytes, max_bytes], with the
// crossovers found by bisection; the first range starts at 0 and the last
// is open. `curves` must not be empty.
std::vector<AlgorithmRange> ChooseRanges(std::span<const AlgorithmCurve> curves,
                                         int64_t min_bytes, int64_t max_bytes);

}  // namespace dstrain::topology
