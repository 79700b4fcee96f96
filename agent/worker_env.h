#pragma once
// Turns the coordinator's StartWorkers request into the processes to run:
//   <executable> worker --job <spec.source_path> [--set k=v]...
// per local rank, with the agent's own environment plus the request's `env`
// map plus (winning over both) the worker contract of
// common/contract/worker_env.h: the rank's identity, the job's labels,
// coordinator and token, the run directory, the metrics fd
// (agent/process_spawner.h), the rank's part of the topology plan (its colour
// and key in each sub-communicator, the all-reduce route table), and, when
// binding.numa binds the rank (agent/numa_binding.h), its NUMA node (its
// CPUs and preferred memory node go in RankProcess).
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
  // This node's copy of the job's text (JobFiles): the workers read it,
  // with the submitter's path (spec.source_path) as its origin for
  // relative paths and messages. Empty: the workers read source_path
  // itself (it must exist on this node).
  std::string job_file;
  // The agent's own TLS files (absolute paths), which its workers use to
  // reach the coordinator; empty when the agent runs without TLS.
  std::string tls_cert, tls_key, tls_ca;
  // Where the workers' rendezvous calls go (DSTRAIN_COORDINATOR): this
  // agent's relay; empty: the coordinator's address from the request.
  std::string rendezvous_address;
  // Where each rank's progress record is (agent/progress_watch.h):
  // <progress_dir>/rank-<r>.progress, made before the start; empty: none.
  std::string progress_dir;
};

StatusOr<JobLaunch> BuildJobLaunch(const proto::StartWorkersRequest& request,
                                   const WorkerEnvContext& context);

// The calling process's environment as "KEY=VALUE" strings.
std::vector<std::string> CurrentEnvironment();

// The absolute path of the running executable (/proc/self/exe resolved),
// what an embedded agent runs its workers as.
StatusOr<std::string> CurrentExecutable();

}  // namespace dstrain::agent
