#pragma once
// How the coordinator reaches the agents: the JobManager's only way to start
// and stop workers. GrpcAgentClient (grpc_agent_client.h) calls the Agent
// service; tests use a recording fake.
//
// StartWorkers and StopWorkers block until the agent answers or a deadline
// passes; the JobManager makes them only from its executor, never from a
// gRPC handler thread. ReadLogsAsync returns at once and calls `done` on
// another thread (it serves `dstrain logs` from a handler). Implementations
// must be thread-safe.

#include <functional>
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

  using ReadLogsDone =
      std::function<void(StatusOr<proto::ReadLogsResponse> response)>;
  // The node's kept worker output. Fakes that keep none answer
  // UNIMPLEMENTED (this default).
  virtual void ReadLogsAsync(const std::string& agent_address,
                             const proto::ReadLogsRequest& request,
                             ReadLogsDone done) {
    (void)agent_address;
    (void)request;
    done(Status(StatusCode::kUnimplemented, "this agent keeps no logs"));
  }
};

}  // namespace dstrain::coordinator
