#pragma once
// A running coordinator: the Coordinator gRPC service on `listen_address`
// over the node, job and rendezvous managers, plus the liveness checker.
//
// Start takes back what the state store holds from an earlier run (the
// managers' Restore: ended jobs as they were, running ones FAILED), then
// binds (port 0 picks a free port; address() tells which), starts the
// service and a background thread that checks heartbeats about four times
// per interval, and returns; the caller owns the server. It is used embedded
// (`dstrain launch` without --coordinator) and standalone
// (`dstrain coordinator`, command/coordinator_main.h).
//
// Threads: Start, address and Wait may be called from any thread.
// Shutdown is idempotent and thread-safe (a second caller waits for the
// first to finish); it fails pending rendezvous waits (UNAVAILABLE), stops
// the server (calls still in flight after one second are cancelled), the
// liveness thread and the agent-call executor (queued StopWorkers still go
// out). Running jobs are not cancelled: their workers keep going until they
// fail to reach the coordinator. Must not be called from a gRPC handler.

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/status.h"
#include "coordinator/access.h"
#include "coordinator/job_manager.h"
#include "coordinator/node_address.h"
#include "coordinator/node_manager.h"
#include "coordinator/state/state_store.h"

namespace grpc {
class Server;
}

namespace dstrain::coordinator {

struct CoordinatorOptions {
  std::string listen_address = "127.0.0.1:0";  // port 0 = pick a free one
  std::string token;                           // required: the operators'
  // The nodes' credential (coordinator/access.h); empty: `token` serves
  // nodes too. The coordinator also calls agents with it.
  std::string node_token;
  // Read-only credential (access.h's viewer); empty: none.
  std::string viewer_token;
  double heartbeat_s = 1.0;  // agents are told this interval
  int missed_heartbeats_before_lost = 3;
  // Cordons (job_manager.h): a node that is the root cause of this many
  // failures within an hour is given no job for cordon_s; 0: never.
  int cordon_after_failures = 2;
  double cordon_s = 600;
  // After a restart on a stored state: how long the agents of the nodes
  // that were live have to register again (their running workers are then
  // re-adopted) before those nodes are lost (node_manager.h). Agents retry
  // with backoff capped at 15 s, so this should exceed that.
  double restore_grace_s = 30.0;
  // Multi-node jobs' collectives go over each node's address in this
  // network (coordinator/node_address.h); unset: the agents' announced
  // addresses.
  std::optional<Cidr> node_network;
  // Where jobs and nodes are recorded (coordinator/state/state_store.h):
  // `dstrain coordinator --state DIR` opens a SqliteStateStore; null: one in
  // memory. The server shares it and keeps it until it is destroyed.
  std::shared_ptr<StateStore> store;
};

class CoordinatorServer {
 public:
  // INVALID_ARGUMENT for a bad option (naming it), UNAVAILABLE when the
  // address cannot be bound, the store's error when what it holds cannot
  // be read back or restored (nothing is served then).
  static StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      const CoordinatorOptions& options);

  ~CoordinatorServer();  // Shutdown()
  CoordinatorServer(const CoordinatorServer&) = delete;
  CoordinatorServer& operator=(const CoordinatorServer&) = delete;

  // "<listen host>:<bound port>"; a wildcard host (0.0.0.0, [::], empty)
  // is reported as 127.0.0.1.
  const std::string& address() const { return address_; }

  void Shutdown();
  // Blocks until Shutdown has completed.
  void Wait();

  // KvWait calls now parked in the rendezvous store (for diagnostics and
  // tests: a waiter shows here once the server holds it).
  std::size_t pending_rendezvous_waits() const;

  // For views served beside the gRPC service (coordinator/http): the
  // managers (thread-safe, valid until the server is destroyed), who may
  // call what, and when this server started (Unix seconds).
  const JobManager& jobs() const;
  const NodeManager& nodes() const;
  const Credentials& credentials() const;
  double start_time_unix_s() const;

 private:
  struct Impl;
  explicit CoordinatorServer(const CoordinatorOptions& options);
  void LivenessLoop();

  std::unique_ptr<Impl> impl_;
  std::string address_;

  std::mutex shutdown_mu_;  // serialises Shutdown
  std::mutex state_mu_;
  std::condition_variable state_cv_;
  bool stopping_ = false;  // guarded by state_mu_; wakes the liveness thread
  bool stopped_ = false;   // guarded by state_mu_; Shutdown has completed
  std::thread liveness_thread_;
};

}  // namespace dstrain::coordinator
