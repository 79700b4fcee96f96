#pragma once
// A blocking client of the Coordinator service for agents, the CLI and
// workers: adds the cluster token and a deadline to every call and returns
// dstrain::Status. The rendezvous RPCs are wrapped by CoordinatorKvStore
// (coordinator_kv_store.h) instead.
//
// Calls wait for the channel to connect, up to their deadline, so a client
// made before the coordinator is listening works once it is; an unreachable
// coordinator then shows as DEADLINE_EXCEEDED naming the call and address.
// Errors read "<Rpc> to <address>: <server's message>".
//
// Thread-safe; calls may run concurrently. Includes no gRPC or torch
// headers (the stub sits behind Impl).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

struct CoordinatorClientOptions {
  // Every call's deadline; a call given a `timeout` uses the shorter one.
  std::chrono::milliseconds rpc_timeout = std::chrono::seconds(10);
};

class CoordinatorClient {
 public:
  CoordinatorClient(const std::string& address, std::string token,
                    CoordinatorClientOptions options = {});
  ~CoordinatorClient();
  CoordinatorClient(const CoordinatorClient&) = delete;
  CoordinatorClient& operator=(const CoordinatorClient&) = delete;

  const std::string& address() const { return address_; }

  // Registering again: the id the node had and the work its agent still
  // has (proto RegisterNodeRequest).
  StatusOr<proto::RegisterNodeResponse> RegisterNode(
      const proto::NodeInventory& inventory, const std::string& agent_address,
      const std::string& previous_node_id = "",
      const std::vector<proto::RunningJob>& running_jobs = {});
  // The coordinator's `known`: false means register again. `progress`:
  // the running ranks' collectives (for hang detection).
  StatusOr<bool> Heartbeat(const std::string& node_id,
                           const std::vector<int>& running_ranks,
                           std::chrono::milliseconds timeout = {},
                           std::vector<proto::RankProgress> progress = {});
  // Returns the job id.
  StatusOr<std::string> LaunchJob(const proto::JobSpec& spec);
  StatusOr<proto::JobStatus> GetJobStatus(const std::string& job_id,
                                          int since_step = 0);
  Status CancelJob(const std::string& job_id, const std::string& reason = "");
  // A preemption (JobManager::PreemptJob): the estimate in the response.
  StatusOr<proto::CancelJobResponse> PreemptJob(const std::string& job_id,
                                                double warning_s,
                                                const std::string& reason);
  // The operators' views (`dstrain jobs`, `nodes`, `drain`).
  StatusOr<proto::ListJobsResponse> ListJobs();
  StatusOr<proto::ListNodesResponse> ListNodes();
  // Workers' output, read from their agents (`dstrain logs`).
  StatusOr<proto::GetLogsResponse> GetLogs(
      const proto::GetLogsRequest& request,
      std::chrono::milliseconds timeout = {});
  // Returns the node's id.
  StatusOr<std::string> DrainNode(const std::string& node,
                                  const std::string& reason, bool undrain);
  Status ReportMetrics(const proto::ReportMetricsRequest& request,
                       std::chrono::milliseconds timeout = {});
  Status ReportWorkerExit(const std::string& node_id, const std::string& job_id,
                          int attempt, const proto::WorkerExit& exit,
                          std::chrono::milliseconds timeout = {});

 private:
  struct Impl;
  const std::string address_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dstrain::coordinator
