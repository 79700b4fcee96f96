#pragma once
// The coordinator's adapter to the topology planner (topology/plan): when a
// job's spec names a cluster description (JobSpec.topology.cluster_path),
// the job's nodes are mapped to the cluster's hosts by hostname and the
// planner decides their order, the sub-communicators and the per-node
// environment (docs/topology.md, "How a job uses its plan").
//
//   LoadJobCluster  reads the description once, at LaunchJob (file IO stays
//                   out of the JobManager's lock); INVALID_ARGUMENT with the
//                   loader's file:line:column, or for a bad algorithm.
//   PlanJob         pure: hostnames in, plan out. INVALID_ARGUMENT names a
//                   node whose hostname the description lacks ("node `hostC`
//                   is not in cluster `two-leaves` (/path/c.yaml)"); the
//                   planner's FAILED_PRECONDITION when a forced algorithm
//                   does not apply; the plan is validated (ValidatePlan)
//                   before it is returned.
//
// The gradient all-reduce goes through the sub-communicators only when the
// job forces `hierarchical` or `torus`; with `auto` the plan orders the
// ranks and the workers still build its sub-communicators, but training
// uses the world communicator (Gloo and NCCL run their own algorithms over
// the ranks in plan order, which is what the placement optimises).
// Thread-safe (no shared state).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/contract/grad_routes.h"
#include "common/status.h"
#include "dstrain.pb.h"
#include "topology/model/cluster.h"

namespace dstrain::coordinator {

struct JobCluster {
  std::string path;
  std::string algorithm = "auto";
  topology::Cluster cluster;
};

// A Slurm topology.conf says nothing of a host's devices: each host gets
// `devices_per_host` (the job's procs_per_node).
StatusOr<std::shared_ptr<const JobCluster>> LoadJobCluster(
    const proto::TopologySpec& spec, int devices_per_host = 1);

struct JobPlan {
  // Indices into the hostnames given to PlanJob, in rank (ring) order.
  std::vector<int> node_order;
  std::string placement;  // how the order was made, e.g. "leaf-contiguous"
  std::vector<proto::SubCommunicator> communicators;
  // The all-reduce route by message size (common/contract/grad_routes.h),
  // several entries when the cost model's choice changes with the size
  // (topology.algorithm auto).
  std::vector<GradRoute> grad_routes;
  // Per node, in node_order: the plan's job-wide variables plus the
  // host's NCCL settings (topology/io/nccl_env.h).
  std::vector<std::map<std::string, std::string>> env;
};

StatusOr<JobPlan> PlanJob(const JobCluster& cluster,
                          const std::vector<std::string>& hostnames,
                          int procs_per_node);

}  // namespace dstrain::coordinator
