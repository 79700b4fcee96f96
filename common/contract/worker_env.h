#pragma once
// The environment a worker process starts with: every variable an agent
// (or torchrun-style launcher) sets for a worker, and the one codec both
// sides use. The agent encodes a WorkerEnv into variables
// (EncodeWorkerEnv); the worker decodes them back (DecodeWorkerEnv). No
// other code names these variables.
//
//   RANK WORLD_SIZE LOCAL_RANK LOCAL_WORLD_SIZE NODE_RANK   who the process is
//   MASTER_ADDR MASTER_PORT      a TCPStore rendezvous (torchrun-style runs
//                                without a coordinator; rank 0 serves it)
//   DSTRAIN_COORDINATOR DSTRAIN_TOKEN   the coordinator's address and the
//                                cluster token for the worker's RPCs
//   DSTRAIN_JOB_ID DSTRAIN_JOB_NAME DSTRAIN_ATTEMPT   labels; an attempt > 0
//                                (a restart) resumes from a checkpoint
//   DSTRAIN_NUM_NODES DSTRAIN_NODE_RANK   the job's node count and this node
//   DSTRAIN_RUN_DIR              run directory (checkpoints default to
//                                <run dir>/ckpt)
//   DSTRAIN_RESUME=0|1           resume from the newest complete checkpoint
//   DSTRAIN_METRICS_FD           where the worker writes its metrics lines
//                                (common/contract/metrics_lines.h)
//   DSTRAIN_PROGRESS_FILE        the shared record of its collectives its
//                                agent reads
//                                (common/contract/progress_record.h)
//   DSTRAIN_TLS_CERT DSTRAIN_TLS_KEY DSTRAIN_TLS_CA   PEM files for mutual
//                                TLS to the coordinator (common/rpc/tls.h),
//                                when the agent uses TLS
//   DSTRAIN_NODE_NAME            the name the node registered as (its
//                                agent's --hostname): how the worker names
//                                its host in messages
//   DSTRAIN_COMM_HOST            address peers reach this rank's collectives
//                                at
//   GLOO_SOCKET_IFNAME           network interface for Gloo (wins over host)
//   DSTRAIN_NUMA_NODE            the NUMA node the agent bound the rank to
//   DSTRAIN_SUBCOMMS             the topology plan's sub-communicators for
//                                this rank: `name:colour:key` items, `;`
//                                between them, the same names in the same
//                                order on every rank
//                                ("intra_node:1:0;inter_node:0:1")
//   DSTRAIN_GRAD_ALLREDUCE       the all-reduce route by message size
//                                (common/contract/grad_routes.h)
//
// Every variable is optional for the worker: absent ones take the default
// of a one-process run. Pure functions; thread-safe.

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/contract/grad_routes.h"
#include "common/status.h"

namespace dstrain::contract {

// The variable names.
inline constexpr char kRank[] = "RANK";
inline constexpr char kWorldSize[] = "WORLD_SIZE";
inline constexpr char kLocalRank[] = "LOCAL_RANK";
inline constexpr char kLocalWorldSize[] = "LOCAL_WORLD_SIZE";
inline constexpr char kNodeRank[] = "NODE_RANK";
inline constexpr char kMasterAddr[] = "MASTER_ADDR";
inline constexpr char kMasterPort[] = "MASTER_PORT";
inline constexpr char kCoordinator[] = "DSTRAIN_COORDINATOR";
inline constexpr char kToken[] = "DSTRAIN_TOKEN";
inline constexpr char kJobId[] = "DSTRAIN_JOB_ID";
inline constexpr char kJobName[] = "DSTRAIN_JOB_NAME";
inline constexpr char kAttempt[] = "DSTRAIN_ATTEMPT";
inline constexpr char kNumNodes[] = "DSTRAIN_NUM_NODES";
inline constexpr char kDstrainNodeRank[] = "DSTRAIN_NODE_RANK";
inline constexpr char kRunDir[] = "DSTRAIN_RUN_DIR";
inline constexpr char kResume[] = "DSTRAIN_RESUME";
inline constexpr char kMetricsFd[] = "DSTRAIN_METRICS_FD";
inline constexpr char kProgressFile[] = "DSTRAIN_PROGRESS_FILE";
inline constexpr char kTlsCert[] = "DSTRAIN_TLS_CERT";
inline constexpr char kTlsKey[] = "DSTRAIN_TLS_KEY";
inline constexpr char kTlsCa[] = "DSTRAIN_TLS_CA";
inline constexpr char kNodeName[] = "DSTRAIN_NODE_NAME";
inline constexpr char kCommHost[] = "DSTRAIN_COMM_HOST";
inline constexpr char kGlooSocketIfname[] = "GLOO_SOCKET_IFNAME";
inline constexpr char kNumaNode[] = "DSTRAIN_NUMA_NODE";
inline constexpr char kSubCommunicators[] = "DSTRAIN_SUBCOMMS";
inline constexpr char kGradAllReduce[] = "DSTRAIN_GRAD_ALLREDUCE";

// One sub-communicator of the topology plan, as one rank joins it:
// Communicator::Split(color, key) over the world.
struct SubCommunicator {
  std::string name;  // e.g. "intra_node", "torus_p0_x"
  int color = -1;    // < 0: this rank joins no group of it
  int key = 0;
  friend bool operator==(const SubCommunicator&,
                         const SubCommunicator&) = default;
};

// Everything a worker is told. Defaults are a one-process run.
struct WorkerEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  int node_rank = 0;
  int num_nodes = 1;
  std::string master_addr;  // empty: none
  int master_port = 0;      // 0: none
  std::string coordinator;  // empty: no coordinator
  std::string token;
  std::string job_id = "local";
  std::string job_name;
  int attempt = 0;
  std::string run_dir;
  bool resume = false;
  int metrics_fd = -1;                    // < 0: none
  std::string progress_file;              // empty: none
  std::string tls_cert, tls_key, tls_ca;  // paths; empty: plaintext
  std::string node_name;                  // empty: the machine's hostname
  std::string comm_host;       // empty: the worker picks (see worker_command)
  std::string comm_interface;  // GLOO_SOCKET_IFNAME
  int numa_node = -1;          // < 0: not bound
  std::vector<SubCommunicator> sub_communicators;
  // Empty: every all-reduce over the world communicator.
  std::vector<GradRoute> grad_routes;
  friend bool operator==(const WorkerEnv&, const WorkerEnv&) = default;
};

// For test failures: every field, one per line.
std::string DescribeWorkerEnv(const WorkerEnv& env);
inline void PrintTo(const WorkerEnv& env, std::ostream* os) {
  *os << DescribeWorkerEnv(env);
}

// The variables for `env`, in a fixed order. Optional parts (master,
// coordinator, token, metrics fd, comm host/interface, NUMA node, plan)
// are left out when unset.
std::vector<std::pair<std::string, std::string>> EncodeWorkerEnv(
    const WorkerEnv& env);

// Every variable name above: what a launcher removes from the environment
// it passes on before adding its own, so stale values never leak through.
const std::vector<std::string>& WorkerEnvVariables();

// Looks a variable up; nullopt (or an empty value) means unset.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// The calling process's environment.
EnvLookup ProcessEnvironment();

// Decodes the variables; unset ones keep WorkerEnv's defaults, except
// LOCAL_WORLD_SIZE (default WORLD_SIZE) and LOCAL_RANK (default RANK mod
// LOCAL_WORLD_SIZE). INVALID_ARGUMENT names the variable and its value.
StatusOr<WorkerEnv> DecodeWorkerEnv(const EnvLookup& lookup);

// DSTRAIN_SUBCOMMS's text form and back ("" is none). Names must be
// non-empty, unique and free of `:` and `;`.
std::string FormatSubCommunicators(const std::vector<SubCommunicator>& subs);
StatusOr<std::vector<SubCommunicator>> ParseSubCommunicators(
    std::string_view text);

}  // namespace dstrain::contract
