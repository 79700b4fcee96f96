#pragma once
// `dstrain agent`: a standalone agent for one node that registers with a
// coordinator and serves until SIGINT or SIGTERM, then stops its workers.

#include <string>
#include <utility>
#include <vector>

#include "common/rpc/tls.h"

namespace dstrain::agent {

struct AgentCommandOptions {
  std::string coordinator;  // host:port, required
  // A file holding the cluster token (rpc::ReadTokenFile); empty: the
  // DSTRAIN_TOKEN environment variable.
  std::string token_file;
  // Where the Agent service listens; "" = the address on the route to the
  // coordinator, any port. A wildcard host listens everywhere and
  // announces that address.
  std::string listen;
  std::string hostname;  // "" = $SLURMD_NODENAME, else gethostname()
  // --tls-cert/--tls-key/--tls-ca: mutual TLS for the agent's server, its
  // calls to the coordinator and its workers' (common/rpc/tls.h).
  rpc::TlsFiles tls;
  // --log-dir: keep the workers' output (for `dstrain logs`) under it, in
  // dstrain-logs-<hostname>; "" = a temporary folder removed at exit.
  // --log-cap-mib: each rank's file rotates at this size (one older file
  // kept).
  std::string log_dir;
  int log_cap_mib = 8;
  // SIGTERM or SIGUSR1 (a preemption, a time limit): the workers get
  // SIGTERM, finish their step, write a checkpoint and exit 75 (requeue);
  // SIGKILL after this many seconds. The agent keeps heartbeating and
  // reports their exits meanwhile. SIGINT stops them with the short grace.
  double preempt_grace_s = 120;
  // Library versions for the node's doctor report (`dstrain nodes
  // --doctor`), which the agent runs when it starts.
  std::vector<std::pair<std::string, std::string>> versions;
};

// Blocks SIGINT, SIGTERM and SIGUSR1 in the calling thread (the agent's threads
// inherit the mask) and waits for one. Prints "dstrain agent <node id>
// serving on <address>" to stdout once registered. Returns 0 after a clean
// shutdown, 2 for bad arguments, 1 when the agent cannot start or register.
int RunAgentCommand(const AgentCommandOptions& options);

}  // namespace dstrain::agent
