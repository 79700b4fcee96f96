#pragma once
// `dstrain coordinator`: a standalone coordinator that serves until SIGINT
// or SIGTERM.

#include <string>

#include "common/rpc/tls.h"

namespace dstrain::coordinator {

struct CoordinatorCommandOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks one
  // The cluster token: read from `token_file` (rpc::ReadTokenFile), or a
  // fresh one written to `generate_token` (a new file, mode 0600), or else
  // the DSTRAIN_TOKEN environment variable. At most one of the two flags.
  std::string token_file;
  std::string generate_token;
  // --node-token-file: the nodes' own credential (coordinator/access.h);
  // empty: nodes use the cluster token too.
  std::string node_token_file;
  // --node-network CIDR: the network multi-node jobs' collectives use
  // (coordinator/node_address.h); empty: each agent's announced address.
  std::string node_network;
  // --tls-cert/--tls-key/--tls-ca: mutual TLS on the coordinator's server
  // and its calls to agents (common/rpc/tls.h); all three or none.
  rpc::TlsFiles tls;
  // --state DIR: keep jobs, nodes, events and step history in DIR (a
  // SqliteStateStore, locked against a second coordinator) and take them
  // back at start; empty: in memory only.
  std::string state_dir;
  // --restore-grace SECONDS: after a restart on --state, how long the
  // agents of the nodes that were live have to register again before their
  // nodes are lost (coordinator_server.h).
  double restore_grace_s = 30.0;
  // --heartbeat SECONDS, --missed-heartbeats N: a node is lost after N
  // intervals without a heartbeat (coordinator_server.h).
  double heartbeat_s = 1.0;
  int missed_heartbeats = 3;
  // Cordons (job_manager.h): a node that is the root cause of this many
  // failures within an hour takes no job for cordon_s (0: never cordon).
  int cordon_after = 2;
  double cordon_s = 600;
  // --viewer-token-file: a read-only credential (coordinator/access.h);
  // empty: none.
  std::string viewer_token_file;
  // --http HOST:PORT: serve /metrics and /healthz there
  // (coordinator/http/http_server.h), over HTTPS when `tls` is given;
  // empty: no HTTP. --metrics-per-rank adds each rank's gauges.
  std::string http_listen;
  bool metrics_per_rank = false;
  std::string version;  // dstrain_build_info's label
};

// Prints "dstrain coordinator listening on <address>" to stdout once
// serving (after saying where a generated token was written), and with
// --http "dstrain coordinator: HTTP on <url> (/metrics, /healthz)" before
// it. Blocks SIGINT
// and SIGTERM in the calling thread (and the server threads it starts) and
// waits for one, then shuts down and restores the signal mask.
// Returns 0 after a clean shutdown, 2 for bad arguments or a state directory
// that cannot be used (unwritable, held by another coordinator, not a
// dstrain database; nothing started, one line on stderr), 1 when the server
// cannot start.
int RunCoordinatorCommand(const CoordinatorCommandOptions& options);

}  // namespace dstrain::coordinator
