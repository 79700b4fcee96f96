#pragma once
// AgentClient over the Agent gRPC service, with the cluster token and a
// deadline per call. One channel per agent address, made on first use and
// kept. Thread-safe: mu_ guards the stub cache; calls run outside it.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "coordinator/agent_client.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::coordinator {

class GrpcAgentClient : public AgentClient {
 public:
  GrpcAgentClient(
      std::string token,
      std::chrono::milliseconds start_timeout = std::chrono::seconds(60),
      std::chrono::milliseconds stop_timeout = std::chrono::seconds(30));

  StatusOr<proto::StartWorkersResponse> StartWorkers(
      const std::string& agent_address,
      const proto::StartWorkersRequest& request) override;

  StatusOr<proto::StopWorkersResponse> StopWorkers(
      const std::string& agent_address,
      const proto::StopWorkersRequest& request) override;

  void ReadLogsAsync(const std::string& agent_address,
                     const proto::ReadLogsRequest& request,
                     ReadLogsDone done) override;

 private:
  proto::Agent::Stub* StubFor(const std::string& address);

  const std::string token_;
  const std::chrono::milliseconds start_timeout_;
  const std::chrono::milliseconds stop_timeout_;

  std::mutex mu_;
  // guarded by mu_; stubs are never removed, so pointers stay valid.
  std::map<std::string, std::unique_ptr<proto::Agent::Stub>> stubs_;
};

}  // namespace dstrain::coordinator
