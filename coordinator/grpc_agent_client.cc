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

void GrpcAgentClient::ReadLogsAsync(const std::string& agent_address,
                                    const proto::ReadLogsRequest& request,
                                    ReadLogsDone done) {
  struct Call {
    grpc::ClientContext context;
    proto::ReadLogsRequest request;
    proto::ReadLogsResponse response;
    ReadLogsDone done;
    std::string address;
  };
  auto* call = new Call;
  call->request = request;
  call->done = std::move(done);
  call->address = agent_address;
  rpc::AddToken(&call->context, token_);
  // An operator waits on it: a node that does not answer soon is reported
  // unreachable rather than holding the others' lines back.
  call->context.set_deadline(rpc::DeadlineAfter(std::chrono::seconds(3)));
  StubFor(agent_address)
      ->async()
      ->ReadLogs(&call->context, &call->request, &call->response,
                 [call](grpc::Status s) {
                   if (s.ok()) {
                     call->done(std::move(call->response));
                   } else {
                     call->done(rpc::FromGrpcStatus(
                         s, "ReadLogs on agent " + call->address));
                   }
                   delete call;
                 });
}

}  // namespace dstrain::coordinator
