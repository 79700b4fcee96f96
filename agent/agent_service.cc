#include "agent/agent_service.h"

#include "common/rpc/auth.h"
#include "common/rpc/status_convert.h"

namespace dstrain::agent {

AgentService::AgentService(std::string token, WorkerControl* control)
    : token_(std::move(token)), control_(control) {}

grpc::ServerUnaryReactor* AgentService::StartWorkers(
    grpc::CallbackServerContext* context,
    const proto::StartWorkersRequest* request,
    proto::StartWorkersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status auth = rpc::CheckToken(*context, token_);
  if (!auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  StatusOr<std::vector<int>> pids = control_->StartWorkers(*request);
  if (!pids.ok()) {
    reactor->Finish(rpc::ToGrpcStatus(pids.status()));
    return reactor;
  }
  for (int pid : *pids) response->add_pids(pid);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::StopWorkers(
    grpc::CallbackServerContext* context,
    const proto::StopWorkersRequest* request,
    proto::StopWorkersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status auth = rpc::CheckToken(*context, token_);
  if (!auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  // `response` stays valid until Finish; the completion runs exactly once.
  control_->StopWorkers(*request, [reactor, response](int stopped) {
    response->set_stopped(stopped);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::ReadLogs(
    grpc::CallbackServerContext* context, const proto::ReadLogsRequest* request,
    proto::ReadLogsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status auth = rpc::CheckToken(*context, token_);
  if (!auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  StatusOr<proto::ReadLogsResponse> read = control_->ReadLogs(*request);
  if (read.ok()) *response = std::move(read).value();
  reactor->Finish(read.ok() ? grpc::Status::OK
                            : rpc::ToGrpcStatus(read.status()));
  return reactor;
}

}  // namespace dstrain::agent
