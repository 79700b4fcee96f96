#pragma once
// One node's agent: registers the node (its inventory) with the coordinator,
// heartbeats, serves the Agent service (StartWorkers/StopWorkers), runs the
// workers through a WorkerLauncher and relays their logs (to `log_sink`),
// metrics, results and exits (to the coordinator, batched), and their
// rendezvous calls (rendezvous_relay.h: the workers are given this agent's
// address as their coordinator for the key-value store).
//
// Used embedded by `dstrain launch` (no --coordinator) and standalone by
// `dstrain agent` (agent_main.h).
//
// Threads: Start and Shutdown from any thread (not from `log_sink`);
// `log_sink` is called on the launcher's thread, one line at a time.
// Shutdown is idempotent: it refuses new work, stops every worker (SIGTERM,
// SIGKILL after `stop_grace_s`) and reaps it, sends the queued reports, then
// stops heartbeats and the server. The destructor calls it.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "dstrain.pb.h"

namespace grpc {
class Server;
}

namespace dstrain::coordinator {
class CoordinatorClient;
}

namespace dstrain::agent {

class AgentService;
class RendezvousRelay;
class RendezvousRelayService;
class JobFiles;
class ProgressWatch;
class WorkerLogs;
class MetricsReporter;
class WorkerLauncher;
class ClientReportSink;

struct AgentOptions {
  std::string coordinator_address;  // required
  std::string token;                // required
  // host:port the Agent service listens on. "" = this machine's address on
  // the route to the coordinator, any port; a wildcard host (0.0.0.0)
  // listens everywhere and announces that route address.
  std::string listen_address = "127.0.0.1:0";
  // The `dstrain` executable the workers run as `<exe> worker ...`;
  // required, absolute.
  std::string worker_executable;
  std::string hostname;  // "" = gethostname()
  // TLS files the workers get (absolute); the agent's own channels and
  // server follow the process's rpc::UseTls.
  std::string tls_cert, tls_key, tls_ca;
  // Receives each relayed worker line, "[rank N host] ..."; default stderr.
  std::function<void(int rank, const std::string& line)> log_sink;
  // The rest of a failed job (worker_launcher.h): SIGKILL at once (0), or
  // SIGTERM and SIGKILL after this long.
  double failure_grace_s = 0;
  double stop_grace_s = 3.0;  // Shutdown's grace
  std::chrono::milliseconds metrics_flush_interval{100};
  std::chrono::milliseconds rpc_timeout{10000};
  // The workers' rendezvous goes through this agent, batched per node
  // (rendezvous_relay.h); false: each worker calls the coordinator.
  bool relay_rendezvous = true;
  // Where the workers' output is kept for `dstrain logs` (worker_logs.h):
  // <log_dir>/dstrain-logs-<hostname>, emptied at start; "" = a temporary
  // folder removed at exit. Each rank's file is capped at
  // log_max_file_bytes (one rotated file more), all jobs at
  // log_max_total_bytes.
  std::string log_dir;
  std::int64_t log_max_file_bytes = 8 << 20;
  std::int64_t log_max_total_bytes = std::int64_t{1} << 30;
  // Run `dstrain doctor`'s checks (agent/doctor, without the disk read
  // test) when starting and register with the report, for `dstrain nodes
  // --doctor`; `doctor_versions` are shown in it.
  bool doctor = false;
  std::vector<std::pair<std::string, std::string>> doctor_versions;
};

class Agent {
 public:
  // INVALID_ARGUMENT for bad options; UNAVAILABLE when the port cannot be
  // bound; the RegisterNode error when the coordinator refuses or cannot
  // be reached within rpc_timeout.
  static StatusOr<std::unique_ptr<Agent>> Start(const AgentOptions& options);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // The id the coordinator gave this node (changes if it re-registers).
  std::string node_id() const;
  // host:port of the Agent service.
  const std::string& address() const { return address_; }
  const proto::NodeInventory& inventory() const { return inventory_; }

  // Stops every running worker (SIGTERM, SIGKILL after grace_s; 0 = at
  // once) and returns once all are reaped. The agent keeps serving.
  void StopAllWorkers(double grace_s, const std::string& reason);
  // Global ranks of workers not yet reaped.
  std::vector<int> RunningRanks() const;
  // The process group of a running job's workers, -1 when none.
  pid_t WorkerProcessGroup(const std::string& job_id) const;

  void Shutdown();

 private:
  class Control;
  explicit Agent(const AgentOptions& options);
  Status Register();
  // The job attempts whose ranks this agent still runs or still has to
  // report the exits of, for RegisterNode.
  std::vector<proto::RunningJob> OwnedWork() const;
  void HeartbeatLoop();

  const AgentOptions options_;
  proto::NodeInventory inventory_;
  std::string address_;
  std::unique_ptr<JobFiles> job_files_;
  std::unique_ptr<WorkerLogs> logs_;
  std::unique_ptr<ProgressWatch> progress_;  // the workers' records

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::string node_id_;
  double heartbeat_s_ = 2.0;
  bool closing_ = false;
  bool shut_down_ = false;

  std::mutex shutdown_mu_;  // serialises Shutdown

  // Construction order; destroyed in reverse after Shutdown.
  std::unique_ptr<coordinator::CoordinatorClient> client_;
  std::unique_ptr<ClientReportSink> sink_;
  std::unique_ptr<MetricsReporter> reporter_;
  std::unique_ptr<WorkerLauncher> launcher_;
  std::unique_ptr<Control> control_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<RendezvousRelay> relay_;  // null when not relaying
  std::unique_ptr<RendezvousRelayService> relay_service_;
  std::unique_ptr<grpc::Server> server_;
  std::thread heartbeat_thread_;
};

}  // namespace dstrain::agent
