#pragma once
// The Coordinator gRPC service: thin callback-API handlers that check the
// cluster token, then forward to the managers and translate Status.
//
// Every handler but KvWait finishes before returning (the managers never
// block). KvWait registers a rendezvous waiter and finishes from the
// waiter's callback, so a waiting rank holds no gRPC thread; when the
// client's deadline passes or it goes away, OnCancel drops the waiter.
//
// The managers must outlive the server that serves this service (the
// server is shut down first). Thread-safe: the service has no state of its
// own beyond what the constructor sets.

#include <string>

#include "coordinator/job_manager.h"
#include "coordinator/node_manager.h"
#include "coordinator/rendezvous_store.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::coordinator {

class CoordinatorService final : public proto::Coordinator::CallbackService {
 public:
  CoordinatorService(std::string token, NodeManager* nodes, JobManager* jobs,
                     RendezvousStore* kv);

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
  grpc::ServerUnaryReactor* KvWait(grpc::CallbackServerContext* context,
                                   const proto::KvWaitRequest* request,
                                   proto::KvWaitResponse* response) override;

 private:
  // Checks the token, runs `body` (which returns a dstrain::Status) if it
  // passes, and finishes the call with the result.
  template <typename Body>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context,
                                  Body&& body);

  const std::string token_;
  NodeManager* const nodes_;
  JobManager* const jobs_;
  RendezvousStore* const kv_;
};

}  // namespace dstrain::coordinator
