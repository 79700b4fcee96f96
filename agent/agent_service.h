#pragma once
// The Agent gRPC service: thin callback-API handlers that check the cluster
// token and forward to a WorkerControl (the Agent). StartWorkers finishes
// before returning (spawning takes milliseconds); StopWorkers finishes from
// WorkerControl's completion callback once every rank is reaped, so a
// stopping job holds no gRPC thread while its grace period runs.
//
// The WorkerControl must outlive the server serving this service, and must
// call every StopWorkers completion exactly once (before the server is shut
// down). Thread-safe: no state beyond what the constructor sets.

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::agent {

class WorkerControl {
 public:
  virtual ~WorkerControl() = default;
  // Returns the started workers' pids.
  virtual StatusOr<std::vector<int>> StartWorkers(
      const proto::StartWorkersRequest& request) = 0;
  // `done(stopped)` once the job's workers are all reaped.
  virtual void StopWorkers(const proto::StopWorkersRequest& request,
                           std::function<void(int stopped)> done) = 0;
  // The workers' kept output (worker_logs.h).
  virtual StatusOr<proto::ReadLogsResponse> ReadLogs(
      const proto::ReadLogsRequest& request) = 0;
};

class AgentService final : public proto::Agent::CallbackService {
 public:
  AgentService(std::string token, WorkerControl* control);

  grpc::ServerUnaryReactor* StartWorkers(
      grpc::CallbackServerContext* context,
      const proto::StartWorkersRequest* request,
      proto::StartWorkersResponse* response) override;
  grpc::ServerUnaryReactor* StopWorkers(
      grpc::CallbackServerContext* context,
      const proto::StopWorkersRequest* request,
      proto::StopWorkersResponse* response) override;
  grpc::ServerUnaryReactor* ReadLogs(
      grpc::CallbackServerContext* context,
      const proto::ReadLogsRequest* request,
      proto::ReadLogsResponse* response) override;

 private:
  const std::string token_;
  WorkerControl* const control_;
};

}  // namespace dstrain::agent
