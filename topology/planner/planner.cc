#include "topology/planner/planner.h"

#include <algorithm>

#include "topology/plan/double_binary_tree.h"
#include "topology/plan/hierarchical.h"
#include "topology/plan/recursive_halving_doubling.h"
#include "topology/plan/ring.h"
#include "topology/plan/torus_allreduce.h"
#include "topology/planner/validate.h"

namespace dstrain::topology {
namespace {

int32_t NodesOf(const Plan& plan) {
  return static_cast<int32_t>(plan.placement.hosts.size());
}

bool HasEnv(const Plan& plan, const char* key, const char* value) {
  for (const auto& [k, v] : plan.env)
    if (k == key && v == value) return true;
  return false;
}

void AddCommunicators(std::vector<SubCommunicator> more,
                      std::vector<SubCommunicator>* out) {
  for (SubCommunicator& c : more) {
    const bool known = std::any_of(out->begin(), out->end(),
                                   [&](auto& x) { return x.name == c.name; });
    if (!known) out->push_back(std::move(c));
  }
}

}  // namespace

SimOptions SimOptionsFor(const Plan& plan, SimOptions base) {
  if (HasEnv(plan, "NCCL_CROSS_NIC", "0")) base.rail_aligned = true;
  return base;
}

StatusOr<Schedule> BuildSchedule(const Cluster& cluster, const Plan& plan,
                                 Algorithm algorithm) {
  const int32_t nodes = NodesOf(plan);
  const int32_t g = plan.ranks_per_node;
  switch (algorithm) {
    case Algorithm::kRing:
      return RingAllReduce(nodes * g, g);
    case Algorithm::kDoubleBinaryTree:
      return DoubleBinaryTreeAllReduce(nodes, g);
    case Algorithm::kRecursiveHalvingDoubling:
      return RecursiveHalvingDoublingAllReduce(nodes * g, g);
    case Algorithm::kHierarchical:
      if (g < 2 || nodes < 2) {
        return FailedPrecondition(
            "the hierarchical all-reduce needs several hosts of several "
            "ranks; this plan has " +
            std::to_string(nodes) + " x " + std::to_string(g));
      }
      return HierarchicalAllReduce(nodes, g);
    case Algorithm::kTorus: {
      DSTRAIN_ASSIGN_OR_RETURN(auto layout,
                               TorusLayoutOf(cluster, plan.placement));
      int dims = 0;
      for (int e : layout.extent) dims += e > 1 ? 1 : 0;
      if (dims < 2) {
        return FailedPrecondition(
            "the torus all-reduce needs a box of at least two dimensions "
            "longer than 1");
      }
      Schedule s = TorusAllReduce(layout, g);
      // Every hop a box neighbour's, every rank its full share: the
      // description the workers run is the one simulated here.
      DSTRAIN_RETURN_IF_ERROR(ValidateTorusAllReduce(layout, g, s));
      return s;
    }
  }
  return InvalidArgument("unknown algorithm");
}

StatusOr<std::vector<AlgorithmCurve>> EvaluateAlgorithms(
    const Cluster& cluster, const Router& router, const Plan& plan,
    const SimOptions& sim, std::span<const Algorithm> candidates) {
  std::span<const Algorithm> list =
      candidates.empty() ? std::span<const Algorithm>(kAllAlgorithms)
                         : candidates;
  const RankMap ranks = RankMapFor(plan.placement.hosts, plan.ranks_per_node);
  std::vector<AlgorithmCurve> out;
  for (Algorithm a : list) {
    auto schedule = BuildSchedule(cluster, plan, a);
    if (!schedule.ok()) {
      if (schedule.status().code() == StatusCode::kFailedPrecondition &&
          candidates.empty())
        continue;  // does not apply here
      return schedule.status();
    }
    DSTRAIN_ASSIGN_OR_RETURN(auto curve,
                             Simulate(cluster, router, ranks, *schedule, sim));
    out.push_back({a, std::move(curve)});
  }
  if (out.empty()) return FailedPrecondition("no algorithm applies");
  return out;
}

std::vector<AlgorithmRange> ChooseRanges(std::span<const AlgorithmCurve> curves,
                                         int64_t min_bytes, int64_t max_bytes) {
  auto best_at = [&](int64_t bytes) {
    size_t best = 0;
    double t = curves[0].curve.Seconds(static_cast<double>(bytes));
    for (size_t i = 1; i < curves.size(); ++i) {
      const double u = curves[i].curve.Seconds(static_cast<double>(bytes));
      if (u < t) {
        t = u;
        best = i;
      }
    }
    return best;
  };
  min_bytes = std::max<int64_t>(min_bytes, 1);
  max_bytes = std::max(max_bytes, min_bytes);
  std::vector<AlgorithmRange> out;
  size_t current = best_at(min_bytes);
  out.push_back({0, -1, curves[current].algorithm});
  int64_t lo = min_bytes;
  while (lo < max_bytes) {
    const int64_t hi = std::min(max_bytes, lo * 2);
    const size_t at_hi = best_at(hi);
    if (at_hi != current) {
      // Smallest size in (lo, hi] where the winner is no longer `current`.
      int64_t a = lo, b = hi;
      while (b - a > 1) {
        const int64_t mid = a + (b - a) / 2;
        if (best_at(mid) == current)
          a = mid;
        else
          b = mid;
      }
      const size_t next = best_at(b);
      out.back().max_bytes = b;
      out.push_back({b, -1, curves[next].algorithm});
      current = next;
      lo = b;  // scan on from the crossover: another may follow before hi
      continue;
    }
    lo = hi;
  }
  return out;
}

StatusOr<Plan> BuildPlan(const Cluster& cluster,
                         std::span<const VertexId> hosts,
                         const PlanOptions& options) {
  DSTRAIN_ASSIGN_OR_RETURN(
      auto placement, Place(cluster, hosts, options.placement, options.seed));
  Plan plan;
  plan.cluster = cluster.name();
  plan.placement = std::move(placement);
  int32_t g = options.ranks_per_node;
  if (g <= 0) {
    g = INT32_MAX;
    for (VertexId h : plan.placement.hosts)
      g = std::min(g, cluster.vertex(h).host.devices);
    g = std::max(g, 1);
  }
  plan.ranks_per_node = g;
  std::vector<std::string> names;
  names.reserve(plan.placement.hosts.size());
  for (VertexId h : plan.placement.hosts)
    names.push_back(cluster.vertex(h).name);
  DSTRAIN_ASSIGN_OR_RETURN(auto ranks, LayOutRanks(names, g));
  plan.ranks = std::move(ranks);
  plan.env = plan.placement.env;

  DSTRAIN_ASSIGN_OR_RETURN(auto router, Router::Create(cluster));
  const SimOptions sim = SimOptionsFor(plan, options.sim);
  if (options.algorithm) {
    DSTRAIN_ASSIGN_OR_RETURN(auto schedule,
                             BuildSchedule(cluster, plan, *options.algorithm));
    plan.algorithms = {{0, -1, *options.algorithm}};
    if (*options.algorithm == Algorithm::kRing)
      plan.env.emplace_back("NCCL_ALGO", "Ring");
    if (*options.algorithm == Algorithm::kDoubleBinaryTree)
      plan.env.emplace_back("NCCL_ALGO", "Tree");
  } else {
    DSTRAIN_ASSIGN_OR_RETURN(
        auto curves,
        EvaluateAlgorithms(cluster, router, plan, sim, options.candidates));
    plan.algorithms =
        ChooseRanges(curves, options.min_bytes, options.max_bytes);
  }
  for (const AlgorithmRange& r : plan.algorithms) {
    if (r.algorithm == Algorithm::kHierarchical) {
      AddCommunicators(
          HierarchicalCommunicators(NodesOf(plan), plan.ranks_per_node),
          &plan.communicators);
    }
    if (r.algorithm == Algorithm::kTorus) {
      DSTRAIN_ASSIGN_OR_RETURN(auto layout,
                               TorusLayoutOf(cluster, plan.placement));
      AddCommunicators(TorusCommunicators(layout, plan.ranks_per_node),
                       &plan.communicators);
    }
  }
  // A simulated algorithm has had every transfer routed already.
  DSTRAIN_RETURN_IF_ERROR(ValidatePlan(
      cluster, plan, /*check_routes=*/options.algorithm.has_value()));
  return plan;
}

}  // namespace dstrain::topology
