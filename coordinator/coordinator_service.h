#pragma once
// The Coordinator gRPC service: thin callback-API handlers that check the
// caller's credential for the method (coordinator/access.h: operator, node
// or job), then forward to the managers and translate Status. Refusals are
// logged with the peer's address, never with the credential.
//
// Every handler but KvWait and KvFence finishes before returning (the
// managers never block). Those two register a rendezvous waiter and finish
// from the waiter's callback, so a waiting rank holds no gRPC thread; when
// the client's deadline passes or it goes away, OnCancel drops the waiter.
//
// The managers must outlive the server that serves this service (the
// server is shut down first). Thread-safe: the service has no state of its
// own beyond what the constructor sets.

#include <string>

#include "coordinator/access.h"
#include "coordinator/agent_client.h"
#include "coordinator/job_manager.h"
#include "coordinator/node_manager.h"
#include "coordinator/rendezvous_store.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::coordinator {

class CoordinatorService final : public proto::Coordinator::CallbackService {
 public:
  // `instance` names this process of the coordinator: every answer carries
  // it (rpc::kCoordinatorInstanceKey), so clients see a restart.
  CoordinatorService(Credentials credentials, NodeManager* nodes,
                     JobManager* jobs, RendezvousStore* kv, AgentClient* agents,
                     std::string instance);

  grpc::ServerUnaryReactor* RegisterNode(
      grpc::CallbackServerContext* context,
      const proto::RegisterNodeRequest* request,
      proto::RegisterNodeResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(
      grpc::CallbackServerContext* context,
      const proto::HeartbeatRequest* request,
      proto::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* LaunchJob(
      grpc::CallbackServerContext* context,
      const proto::LaunchJobRequest* request,
      proto::LaunchJobResponse* response) override;
  grpc::ServerUnaryReactor* GetJobStatus(grpc::CallbackServerContext* context,
                                         const proto::JobStatusRequest* request,
                                         proto::JobStatus* response) override;
  grpc::ServerUnaryReactor* CancelJob(
      grpc::CallbackServerContext* context,
      const proto::CancelJobRequest* request,
      proto::CancelJobResponse* response) override;
  grpc::ServerUnaryReactor* ListJobs(
      grpc::CallbackServerContext* context,
      const proto::ListJobsRequest* request,
      proto::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* ListNodes(
      grpc::CallbackServerContext* context,
      const proto::ListNodesRequest* request,
      proto::ListNodesResponse* response) override;
  grpc::ServerUnaryReactor* DrainNode(
      grpc::CallbackServerContext* context,
      const proto::DrainNodeRequest* request,
      proto::DrainNodeResponse* response) override;
  grpc::ServerUnaryReactor* ReportMetrics(
      grpc::CallbackServerContext* context,
      const proto::ReportMetricsRequest* request,
      proto::ReportMetricsResponse* response) override;
  grpc::ServerUnaryReactor* ReportWorkerExit(
      grpc::CallbackServerContext* context,
      const proto::ReportWorkerExitRequest* request,
      proto::ReportWorkerExitResponse* response) override;

  grpc::ServerUnaryReactor* KvSet(grpc::CallbackServerContext* context,
                                  const proto::KvSetRequest* request,
                                  proto::KvSetResponse* response) override;
  grpc::ServerUnaryReactor* KvGet(grpc::CallbackServerContext* context,
                                  const proto::KvGetRequest* request,
                                  proto::KvGetResponse* response) override;
  grpc::ServerUnaryReactor* KvAdd(grpc::CallbackServerContext* context,
                                  const proto::KvAddRequest* request,
                                  proto::KvAddResponse* response) override;
  grpc::ServerUnaryReactor* KvCompareSet(
      grpc::CallbackServerContext* context,
      const proto::KvCompareSetRequest* request,
      proto::KvCompareSetResponse* response) override;
  grpc::ServerUnaryReactor* KvDelete(
      grpc::CallbackServerContext* context,
      const proto::KvDeleteRequest* request,
      proto::KvDeleteResponse* response) override;
  grpc::ServerUnaryReactor* KvCheck(grpc::CallbackServerContext* context,
                                    const proto::KvCheckRequest* request,
                                    proto::KvCheckResponse* response) override;
  grpc::ServerUnaryReactor* KvBatch(grpc::CallbackServerContext* context,
                                    const proto::KvBatchRequest* request,
                                    proto::KvBatchResponse* response) override;
  grpc::ServerUnaryReactor* KvWait(grpc::CallbackServerContext* context,
                                   const proto::KvWaitRequest* request,
                                   proto::KvWaitResponse* response) override;
  // Joins the request's ranks to the fence, then finishes once it is
  // complete, with the wanted records (as KvWait, from the store's
  // callback).
  // Reads the job's ranks' output from their agents (log_gather.h), all
  // at once without holding a thread, and finishes when all answered.
  grpc::ServerUnaryReactor* GetLogs(grpc::CallbackServerContext* context,
                                    const proto::GetLogsRequest* request,
                                    proto::GetLogsResponse* response) override;
  grpc::ServerUnaryReactor* KvFence(grpc::CallbackServerContext* context,
                                    const proto::KvFenceRequest* request,
                                    proto::KvFenceResponse* response) override;

 private:
  // Checks the token, runs `body` (which returns a dstrain::Status) if it
  // passes, and finishes the call with the result.
  // Authorize the call (`role`, on `job_id` for job credentials), then
  // finish it with `body`'s Status.
  template <typename Body>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context,
                                  const char* method, Role role,
                                  const std::string& job_id, Body&& body);
  // OK, or the refusal (logged with the peer's address).
  grpc::Status Check(grpc::CallbackServerContext* context, const char* method,
                     Role role, const std::string& job_id);

  const std::string instance_;
  const Credentials credentials_;
  NodeManager* const nodes_;
  JobManager* const jobs_;
  RendezvousStore* const kv_;
  AgentClient* const agents_;
};

}  // namespace dstrain::coordinator
