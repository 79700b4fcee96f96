#include "coordinator/client/coordinator_client.h"

#include <grpcpp/client_context.h>

#include <algorithm>

#include "common/rpc/auth.h"
#include "common/rpc/channel.h"
#include "common/rpc/status_convert.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::coordinator {

struct CoordinatorClient::Impl {
  std::string token;
  CoordinatorClientOptions options;
  std::unique_ptr<proto::Coordinator::Stub> stub;

  // `timeout` > 0 shortens the call's deadline below options.rpc_timeout.
  void Prepare(grpc::ClientContext* context,
               std::chrono::milliseconds timeout = {}) const {
    rpc::AddToken(context, token);
    std::chrono::milliseconds deadline = options.rpc_timeout;
    if (timeout.count() > 0) deadline = std::min(deadline, timeout);
    context->set_deadline(rpc::DeadlineAfter(deadline));
    context->set_wait_for_ready(true);
  }
};

CoordinatorClient::CoordinatorClient(const std::string& address,
                                     std::string token,
                                     CoordinatorClientOptions options)
    : address_(address),
      impl_(new Impl{std::move(token), options,
                     proto::Coordinator::NewStub(rpc::MakeChannel(address))}) {}

CoordinatorClient::~CoordinatorClient() = default;

StatusOr<proto::RegisterNodeResponse> CoordinatorClient::RegisterNode(
    const proto::NodeInventory& inventory, const std::string& agent_address,
    const std::string& previous_node_id,
    const std::vector<proto::RunningJob>& running_jobs) {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::RegisterNodeRequest request;
  *request.mutable_inventory() = inventory;
  request.set_agent_address(agent_address);
  request.set_previous_node_id(previous_node_id);
  for (const proto::RunningJob& r : running_jobs) {
    *request.add_running_jobs() = r;
  }
  proto::RegisterNodeResponse response;
  grpc::Status s = impl_->stub->RegisterNode(&context, request, &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "RegisterNode to " + address_);
  return response;
}

StatusOr<bool> CoordinatorClient::Heartbeat(
    const std::string& node_id, const std::vector<int>& running_ranks,
    std::chrono::milliseconds timeout,
    std::vector<proto::RankProgress> progress) {
  grpc::ClientContext context;
  impl_->Prepare(&context, timeout);
  proto::HeartbeatRequest request;
  request.set_node_id(node_id);
  for (int r : running_ranks) request.add_running_ranks(r);
  for (proto::RankProgress& p : progress) {
    *request.add_progress() = std::move(p);
  }
  proto::HeartbeatResponse response;
  grpc::Status s = impl_->stub->Heartbeat(&context, request, &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "Heartbeat to " + address_);
  return response.known();
}

StatusOr<std::string> CoordinatorClient::LaunchJob(const proto::JobSpec& spec) {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::LaunchJobRequest request;
  *request.mutable_spec() = spec;
  proto::LaunchJobResponse response;
  grpc::Status s = impl_->stub->LaunchJob(&context, request, &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "LaunchJob to " + address_);
  return response.job_id();
}

StatusOr<proto::JobStatus> CoordinatorClient::GetJobStatus(
    const std::string& job_id, int since_step) {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::JobStatusRequest request;
  request.set_job_id(job_id);
  request.set_since_step(since_step);
  proto::JobStatus response;
  grpc::Status s = impl_->stub->GetJobStatus(&context, request, &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "GetJobStatus to " + address_);
  return response;
}

Status CoordinatorClient::CancelJob(const std::string& job_id,
                                    const std::string& reason) {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::CancelJobRequest request;
  request.set_job_id(job_id);
  request.set_reason(reason);
  proto::CancelJobResponse response;
  grpc::Status s = impl_->stub->CancelJob(&context, request, &response);
  return rpc::FromGrpcStatus(s, "CancelJob to " + address_);
}

StatusOr<proto::CancelJobResponse> CoordinatorClient::PreemptJob(
    const std::string& job_id, double warning_s, const std::string& reason) {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::CancelJobRequest request;
  request.set_job_id(job_id);
  request.set_reason(reason);
  request.set_preempt(true);
  request.set_warning_s(warning_s);
  proto::CancelJobResponse response;
  grpc::Status s = impl_->stub->CancelJob(&context, request, &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "CancelJob to " + address_);
  return response;
}

StatusOr<proto::ListJobsResponse> CoordinatorClient::ListJobs() {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::ListJobsResponse response;
  grpc::Status s =
      impl_->stub->ListJobs(&context, proto::ListJobsRequest(), &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "ListJobs to " + address_);
  return response;
}

StatusOr<proto::GetLogsResponse> CoordinatorClient::GetLogs(
    const proto::GetLogsRequest& request, std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  impl_->Prepare(&context, timeout);
  proto::GetLogsResponse response;
  grpc::Status s = impl_->stub->GetLogs(&context, request, &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "GetLogs to " + address_);
  return response;
}

StatusOr<proto::ListNodesResponse> CoordinatorClient::ListNodes() {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::ListNodesResponse response;
  grpc::Status s =
      impl_->stub->ListNodes(&context, proto::ListNodesRequest(), &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "ListNodes to " + address_);
  return response;
}

StatusOr<std::string> CoordinatorClient::DrainNode(const std::string& node,
                                                   const std::string& reason,
                                                   bool undrain) {
  grpc::ClientContext context;
  impl_->Prepare(&context);
  proto::DrainNodeRequest request;
  request.set_node(node);
  request.set_reason(reason);
  request.set_undrain(undrain);
  proto::DrainNodeResponse response;
  grpc::Status s = impl_->stub->DrainNode(&context, request, &response);
  if (!s.ok()) return rpc::FromGrpcStatus(s, "DrainNode to " + address_);
  return response.node_id();
}

Status CoordinatorClient::ReportMetrics(
    const proto::ReportMetricsRequest& request,
    std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  impl_->Prepare(&context, timeout);
  proto::ReportMetricsResponse response;
  grpc::Status s = impl_->stub->ReportMetrics(&context, request, &response);
  return rpc::FromGrpcStatus(s, "ReportMetrics to " + address_);
}

Status CoordinatorClient::ReportWorkerExit(const std::string& node_id,
                                           const std::string& job_id,
                                           int attempt,
                                           const proto::WorkerExit& exit,
                                           std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  impl_->Prepare(&context, timeout);
  proto::ReportWorkerExitRequest request;
  request.set_node_id(node_id);
  request.set_job_id(job_id);
  request.set_attempt(attempt);
  *request.mutable_exit() = exit;
  proto::ReportWorkerExitResponse response;
  grpc::Status s = impl_->stub->ReportWorkerExit(&context, request, &response);
  return rpc::FromGrpcStatus(s, "ReportWorkerExit to " + address_);
}

}  // namespace dstrain::coordinator
