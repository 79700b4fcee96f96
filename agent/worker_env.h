#pragma once
// Turns the coordinator's StartWorkers request into the processes to run:
//   <executable> worker --job <spec.source_path> [--set k=v]...
// per local rank, with the agent's own environment plus the request's `env`
// map plus (winning over both) the worker contract:
//   RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE NODE_RANK
//   DSTRAIN_COORDINATOR DSTRAIN_TOKEN DSTRAIN_JOB_ID DSTRAIN_ATTEMPT
//   DSTRAIN_RUN_DIR DSTRAIN_RESUME DSTRAIN_METRICS_FD=3
// and, when the coordinator planned the job on a cluster description, each
// rank's part of the plan (worker/engine/plan_communicators.h):
//   DSTRAIN_SUBCOMMS        name:colour:key per sub-communicator, ';' apart
//   DSTRAIN_GRAD_ALLREDUCE  the all-reduce route by size, e.g. "hierarchical"
//                           or "hierarchical@0,world@38797313" (absent when
//                           every size goes over the world)
// and, when binding.numa binds the rank (agent/numa_binding.h), its CPUs
// and preferred memory node in RankProcess and
//   DSTRAIN_NUMA_NODE       the NUMA node it is bound to
// Pure function; INVALID_ARGUMENT names what is wrong with the request.

#include <string>
#include <vector>

#include "agent/numa_binding.h"
#include "agent/worker_launcher.h"
#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::agent {

struct WorkerEnvContext {
  std::string executable;  // absolute path of `dstrain`
  std::string token;       // the cluster token, for the workers' RPCs
  std::vector<std::string>
      base_env;  // "KEY=VALUE", usually the agent's environ
  // For binding.numa (agent/numa_binding.h): the node's NUMA nodes and
  // GPUs, and the CPUs the agent itself may run on.
  proto::NodeInventory inventory;
  std::vector<int> allowed_cpus;
};

StatusOr<JobLaunch> BuildJobLaunch(const proto::StartWorkersRequest& request,
                                   const WorkerEnvContext& context);

// The calling process's environment as "KEY=VALUE" strings.
std::vector<std::string> CurrentEnvironment();

// The absolute path of the running executable (/proc/self/exe resolved),
// what an embedded agent runs its workers as.
StatusOr<std::string> CurrentExecutable();

}  // namespace dstrain::agent
