#include "coordinator/grpc_agent_client.h"

#include <grpcpp/client_context.h>

#include "common/rpc/auth.h"
#include "common/rpc/channel.h"
#include "common/rpc/status_convert.h"

namespace dstrain::coordinator {

GrpcAgentClient::GrpcAgentClient(std::string token,
                                 std::chrono::milliseconds start_timeout,
                                 std::chrono::milliseconds stop_timeout)
    : token_(std::move(token)),
      start_timeout_(start_timeout),
      stop_timeout_(stop_timeout) {}

proto::Agent::Stub* GrpcAgentClient::StubFor(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& stub = stubs_[address];
  if (!stub) stub = proto::Agent::NewStub(rpc::MakeChannel(address));
  return stub.get();
}

StatusOr<proto::StartWorkersResponse> GrpcAgentClient::StartWorkers(
    const std::string& agent_address,
    const proto::StartWorkersRequest& request) {
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(rpc::DeadlineAfter(start_timeout_));
  proto::StartWorkersResponse response;
  grpc::Status s =
      StubFor(agent_address)->StartWorkers(&context, request, &response);
  if (!s.ok()) {
    return rpc::FromGrpcStatus(s, "StartWorkers on agent " + agent_address);
  }
  return response;
}

StatusOr<proto::StopWorkersResponse> GrpcAgentClient::StopWorkers(
    const std::string& agent_address,
    const proto::StopWorkersRequest& request) {
  grpc::ClientContext context;
  rpc::AddToken(&context, token_);
  context.set_deadline(rpc::DeadlineAfter(stop_timeout_));
  proto::StopWorkersResponse response;
  grpc::Status s =
      StubFor(agent_address)->StopWorkers(&context, request, &response);
  if (!s.ok()) {
    return rpc::FromGrpcStatus(s, "StopWorkers on agent " + agent_address);
  }
  return response;
}

}  // namespace dstrain::coordinator
