#include "coordinator/job_plan.h"

#include <algorithm>

#include "common/contract/grad_routes.h"
#include "topology/io/cluster_file.h"
#include "topology/io/nccl_env.h"
#include "topology/planner/planner.h"
#include "topology/planner/validate.h"

namespace dstrain::coordinator {

StatusOr<std::shared_ptr<const JobCluster>> LoadJobCluster(
    const proto::TopologySpec& spec, int devices_per_host) {
  auto out = std::make_shared<JobCluster>();
  out->path = spec.cluster_path();
  out->algorithm = spec.algorithm().empty() ? "auto" : spec.algorithm();
  StatusOr<std::optional<topology::Algorithm>> algorithm =
      topology::ParseAlgorithmChoice(out->algorithm);
  if (!algorithm.ok()) {
    return InvalidArgument("topology.algorithm: " +
                           algorithm.status().message());
  }
  topology::SlurmTopologyOptions slurm;
  slurm.devices_per_host = std::max(1, devices_per_host);
  StatusOr<topology::Cluster> cluster =
      topology::LoadClusterFile(out->path, slurm);
  if (!cluster.ok()) {
    return InvalidArgument("topology.cluster: " + cluster.status().message());
  }
  DSTRAIN_RETURN_IF_ERROR(cluster->Validate());
  out->cluster = std::move(cluster).value();
  return std::shared_ptr<const JobCluster>(std::move(out));
}

StatusOr<JobPlan> PlanJob(const JobCluster& jc,
                          const std::vector<std::string>& hostnames,
                          int procs_per_node) {
  const topology::Cluster& cluster = jc.cluster;
  std::vector<topology::VertexId> hosts;
  std::map<topology::VertexId, int> index_of;
  for (std::size_t i = 0; i < hostnames.size(); ++i) {
    const topology::VertexId v = cluster.Find(hostnames[i]);
    if (v == topology::kNoVertex || !cluster.IsHost(v)) {
      return InvalidArgument("node `" + hostnames[i] + "` is not in cluster `" +
                             cluster.name() + "` (" + jc.path + ")");
    }
    if (!index_of.emplace(v, static_cast<int>(i)).second) {
      return InvalidArgument("two nodes registered as `" + hostnames[i] +
                             "`; the plan needs one node per host");
    }
    hosts.push_back(v);
  }
  topology::PlanOptions options;
  options.ranks_per_node = procs_per_node;
  DSTRAIN_ASSIGN_OR_RETURN(std::optional<topology::Algorithm> algorithm,
                           topology::ParseAlgorithmChoice(jc.algorithm));
  options.algorithm = algorithm;
  StatusOr<topology::Plan> plan = topology::BuildPlan(cluster, hosts, options);
  if (!plan.ok()) {
    return Status(plan.status().code(), "cannot plan on cluster `" +
                                            cluster.name() +
                                            "`: " + plan.status().message());
  }
  // BuildPlan validates; the coordinator checks again what it hands out.
  DSTRAIN_RETURN_IF_ERROR(topology::ValidatePlan(cluster, *plan));

  JobPlan out;
  out.placement = plan->placement.method;
  for (topology::VertexId v : plan->placement.hosts)
    out.node_order.push_back(index_of.at(v));
  for (const topology::SubCommunicator& c : plan->communicators) {
    proto::SubCommunicator p;
    p.set_name(c.name);
    for (int32_t v : c.color) p.add_color(v);
    for (int32_t v : c.key) p.add_key(v);
    out.communicators.push_back(std::move(p));
  }
  // The all-reduce route per size, the plan's choice as it stands: its
  // composed algorithms run through the sub-communicators, its flat ones
  // (ring, tree, rhd) are the backend's own over the world, which follows
  // the planned rank order.
  std::vector<GradRoute> routes;
  for (const topology::AlgorithmRange& r : plan->algorithms) {
    const char* via = "world";
    if (r.algorithm == topology::Algorithm::kHierarchical) via = "hierarchical";
    if (r.algorithm == topology::Algorithm::kTorus) via = "torus";
    routes.push_back({r.min_bytes, via});
  }
  out.grad_routes = std::move(routes);
  const std::string nccl_algo =
      algorithm ? topology::AlgorithmName(*algorithm) : "";
  for (topology::VertexId v : plan->placement.hosts) {
    std::map<std::string, std::string> env(plan->env.begin(), plan->env.end());
    topology::NcclEnvOptions nccl;
    // Only NCCL's own algorithms become NCCL_ALGO; the plan's composed
    // ones run through sub-communicators instead.
    if (nccl_algo == "ring" || nccl_algo == "tree") nccl.algorithm = nccl_algo;
    DSTRAIN_ASSIGN_OR_RETURN(auto host_env,
                             topology::NcclEnvironment(cluster, v, nccl));
    for (auto& [k, val] : host_env) env[k] = val;
    out.env.push_back(std::move(env));
  }
  return out;
}

}  // namespace dstrain::coordinator
