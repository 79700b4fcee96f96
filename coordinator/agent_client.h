#pragma once
// How the coordinator reaches the agents: the JobManager's only way to start
// and stop workers. GrpcAgentClient (grpc_agent_client.h) calls the Agent
// service; tests use a recording fake.
//
// Calls block until the agent answers or a deadline passes; the JobManager
// makes them only from its executor, never from a gRPC handler thread.
// Implementations must be thread-safe.

#include <string>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

class AgentClient {
 public:
  virtual ~AgentClient() = default;

  virtual StatusOr<proto::StartWorkersResponse> StartWorkers(
      const std::string& agent_address,
      const proto::StartWorkersRequest& request) = 0;

  virtual StatusOr<proto::StopWorkersResponse> StopWorkers(
      const std::string& agent_address,
      const proto::StopWorkersRequest& request) = 0;
};

}  // namespace dstrain::coordinator
