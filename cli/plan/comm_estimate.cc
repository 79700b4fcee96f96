#include "cli/plan/comm_estimate.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "cli/topo/topo_cluster_arg.h"
#include "topology/planner/planner.h"
#include "topology/sim/router.h"

namespace dstrain::cli {

using topology::Cluster;

StatusOr<FabricTimes> PredictCollectives(
    const std::string& cluster_arg, int nodes, int procs_per_node,
    std::span<const sizing::CollectiveCall> calls) {
  DSTRAIN_ASSIGN_OR_RETURN(Cluster cluster,
                           LoadClusterArg(cluster_arg, procs_per_node));
  std::vector<topology::VertexId> hosts = cluster.hosts();
  if (static_cast<int>(hosts.size()) < nodes) {
    return InvalidArgument("cluster `" + cluster.name() + "` (" + cluster_arg +
                           ") has " + std::to_string(hosts.size()) +
                           " hosts, the job asks for " + std::to_string(nodes) +
                           " nodes; give --nodes or a larger cluster");
  }
  DSTRAIN_ASSIGN_OR_RETURN(
      topology::Placement by_name,
      topology::Place(cluster, hosts, topology::PlacementKind::kHostname));
  hosts = by_name.hosts;
  hosts.resize(static_cast<std::size_t>(nodes));
  topology::PlanOptions options;
  options.ranks_per_node = procs_per_node;
  DSTRAIN_ASSIGN_OR_RETURN(topology::Plan plan,
                           topology::BuildPlan(cluster, hosts, options));
  DSTRAIN_ASSIGN_OR_RETURN(topology::Router router,
                           topology::Router::Create(cluster));
  const topology::SimOptions sim = topology::SimOptionsFor(plan, options.sim);
  DSTRAIN_ASSIGN_OR_RETURN(
      std::vector<topology::AlgorithmCurve> curves,
      topology::EvaluateAlgorithms(cluster, router, plan, sim));
  FabricTimes t;
  t.fabric = cluster.name();
  for (const sizing::CollectiveCall& c : calls) {
    double best = std::numeric_limits<double>::infinity();
    for (const topology::AlgorithmCurve& a : curves) {
      best = std::min(best, a.curve.Seconds(static_cast<double>(c.bytes)));
    }
    if (curves.empty() || plan.world_size() <= 1) best = 0;
    const double one =
        c.kind == sizing::CollectiveKind::kAllReduce ? best : best / 2;
    t.seconds.push_back(one * static_cast<double>(c.count));
  }
  return t;
}

}  // namespace dstrain::cli
