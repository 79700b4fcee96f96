#include "coordinator/coordinator_service.h"

#include <atomic>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include "common/log.h"
#include "common/rendezvous/fence.h"
#include "common/rpc/auth.h"
#include "common/rpc/status_convert.h"
#include "coordinator/log_gather.h"
#include "coordinator/node_status.h"

namespace dstrain::coordinator {
namespace {

// The reactor of a call answered when keys exist: KvWait, and KvFence once
// its done key is written. Finish must happen exactly once, from either
// the waiter's callback or OnCancel, which may race on different threads;
// the flag deciding it lives in a shared block the callback keeps alive,
// because the callback may run after the reactor is finished and deleted
// (a losing callback then touches only the block). `answer` runs once the
// keys exist, before Finish, to fill the response.
class KeyWaitReactor : public grpc::ServerUnaryReactor {
 public:
  using Answer = std::function<Status()>;

  KeyWaitReactor(RendezvousStore* kv, const std::string& job_id,
                 const std::vector<std::string>& keys, const char* method,
                 Answer answer)
      : kv_(kv), method_(method), shared_(std::make_shared<Shared>()) {
    shared_->reactor = this;
    shared_->answer = std::move(answer);
    std::shared_ptr<Shared> shared = shared_;
    id_ = kv_->WaitAsync(job_id, keys, [shared](const Status& s) {
      if (!shared->finished.exchange(true)) {
        Status answered = s;
        if (answered.ok() && shared->answer) answered = shared->answer();
        shared->reactor->Finish(rpc::ToGrpcStatus(answered));
      }
    });
  }

  void OnCancel() override {
    kv_->CancelWait(id_);
    if (!shared_->finished.exchange(true)) {
      Finish(grpc::Status(
          grpc::StatusCode::CANCELLED,
          std::string(method_) + " cancelled (client deadline or hang-up)"));
    }
  }

  void OnDone() override {
    kv_->CancelWait(id_);
    delete this;
  }

 private:
  struct Shared {
    std::atomic<bool> finished{false};
    KeyWaitReactor* reactor = nullptr;  // valid until finished is set
    Answer answer;
  };

  RendezvousStore* const kv_;
  const char* const method_;
  std::shared_ptr<Shared> shared_;
  RendezvousStore::WaiterId id_ = 0;
};

// INVALID_ARGUMENT naming the field when a KvFence cannot be a fence.
Status CheckFence(const proto::KvFenceRequest& request) {
  rendezvous::FenceRequest each;
  each.name = request.name();
  each.world = request.world();
  each.want.assign(request.want().begin(), request.want().end());
  if (request.contributions().empty()) {
    return InvalidArgument("KvFence `" + request.name() +
                           "`: no contribution; a call joins one rank or more");
  }
  for (const proto::KvFenceRecord& c : request.contributions()) {
    each.rank = c.rank();
    DSTRAIN_RETURN_IF_ERROR(rendezvous::CheckFenceRequest(each));
    each.want.clear();  // checked once
  }
  return Status::Ok();
}

}  // namespace

CoordinatorService::CoordinatorService(Credentials credentials,
                                       NodeManager* nodes, JobManager* jobs,
                                       RendezvousStore* kv, AgentClient* agents,
                                       std::string instance)
    : instance_(std::move(instance)),
      credentials_(std::move(credentials)),
      nodes_(nodes),
      jobs_(jobs),
      kv_(kv),
      agents_(agents) {}

grpc::Status CoordinatorService::Check(grpc::CallbackServerContext* context,
                                       const char* method, Role role,
                                       const std::string& job_id) {
  StatusOr<std::string> token = rpc::PresentedToken(context->client_metadata());
  Status s = token.ok()
                 ? Authorize(credentials_, *jobs_, *token, method, role, job_id)
                 : token.status();
  if (s.ok()) return grpc::Status::OK;
  log::Warn("coordinator: refused " + std::string(method) + " from " +
            context->peer() + ": " + s.message());
  return rpc::ToGrpcStatus(s);
}

template <typename Body>
grpc::ServerUnaryReactor* CoordinatorService::Unary(
    grpc::CallbackServerContext* context, const char* method, Role role,
    const std::string& job_id, Body&& body) {
  context->AddInitialMetadata(rpc::kCoordinatorInstanceKey, instance_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status auth = Check(context, method, role, job_id);
  if (!auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  reactor->Finish(rpc::ToGrpcStatus(body()));
  return reactor;
}

grpc::ServerUnaryReactor* CoordinatorService::RegisterNode(
    grpc::CallbackServerContext* context,
    const proto::RegisterNodeRequest* request,
    proto::RegisterNodeResponse* response) {
  return Unary(context, "RegisterNode", Role::kNode, "", [&]() -> Status {
    if (request->agent_address().empty()) {
      return InvalidArgument("RegisterNode: agent_address is empty");
    }
    DSTRAIN_ASSIGN_OR_RETURN(
        std::string node_id,
        nodes_->Register(request->inventory(), request->agent_address(),
                         request->previous_node_id()));
    response->set_node_id(node_id);
    // The workers the agent still runs: taken back when this coordinator
    // restarted and the node got its id back, else to be stopped.
    std::vector<proto::RunningJob> running(request->running_jobs().begin(),
                                           request->running_jobs().end());
    for (const std::string& job_id : jobs_->AdoptNode(node_id, running)) {
      response->add_stop_jobs(job_id);
    }
    response->set_heartbeat_s(
        std::chrono::duration<double>(nodes_->heartbeat_interval()).count());
    jobs_->Schedule();  // a pending job may fit now
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::Heartbeat(
    grpc::CallbackServerContext* context,
    const proto::HeartbeatRequest* request,
    proto::HeartbeatResponse* response) {
  return Unary(context, "Heartbeat", Role::kNode, "", [&]() -> Status {
    std::vector<int> ranks(request->running_ranks().begin(),
                           request->running_ranks().end());
    response->set_known(nodes_->Heartbeat(request->node_id(), ranks));
    if (response->known() && request->progress_size() > 0) {
      jobs_->ReportProgress(request->node_id(), {request->progress().begin(),
                                                 request->progress().end()});
    }
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::LaunchJob(
    grpc::CallbackServerContext* context,
    const proto::LaunchJobRequest* request,
    proto::LaunchJobResponse* response) {
  return Unary(context, "LaunchJob", Role::kOperator, "", [&]() -> Status {
    DSTRAIN_ASSIGN_OR_RETURN(std::string id, jobs_->LaunchJob(request->spec()));
    response->set_job_id(id);
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::GetJobStatus(
    grpc::CallbackServerContext* context,
    const proto::JobStatusRequest* request, proto::JobStatus* response) {
  return Unary(context, "GetJobStatus", Role::kViewer, "", [&]() -> Status {
    DSTRAIN_ASSIGN_OR_RETURN(
        proto::JobStatus status,
        jobs_->GetJobStatus(request->job_id(), request->since_step()));
    *response = std::move(status);
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::CancelJob(
    grpc::CallbackServerContext* context,
    const proto::CancelJobRequest* request,
    proto::CancelJobResponse* response) {
  return Unary(context, "CancelJob", Role::kOperator, "", [&]() -> Status {
    if (!request->preempt()) {
      return jobs_->CancelJob(request->job_id(), request->reason());
    }
    DSTRAIN_ASSIGN_OR_RETURN(
        PreemptEstimate estimate,
        jobs_->PreemptJob(request->job_id(), request->warning_s(),
                          request->reason()));
    response->set_checkpoint_estimate_s(estimate.checkpoint_estimate_s);
    response->set_fits(estimate.fits);
    response->set_estimate(estimate.how);
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::ListJobs(
    grpc::CallbackServerContext* context, const proto::ListJobsRequest*,
    proto::ListJobsResponse* response) {
  return Unary(context, "ListJobs", Role::kViewer, "", [&]() -> Status {
    for (proto::JobSummary& s : jobs_->ListJobs()) {
      *response->add_jobs() = std::move(s);
    }
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::ListNodes(
    grpc::CallbackServerContext* context, const proto::ListNodesRequest*,
    proto::ListNodesResponse* response) {
  return Unary(context, "ListNodes", Role::kViewer, "", [&]() -> Status {
    for (proto::NodeStatus& n : NodeStatuses(*nodes_, *jobs_)) {
      *response->add_nodes() = std::move(n);
    }
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::DrainNode(
    grpc::CallbackServerContext* context,
    const proto::DrainNodeRequest* request,
    proto::DrainNodeResponse* response) {
  return Unary(context, "DrainNode", Role::kOperator, "", [&]() -> Status {
    DSTRAIN_ASSIGN_OR_RETURN(
        std::string id,
        nodes_->SetDrain(request->node(), !request->undrain(),
                         request->reason().empty() ? std::string("drained")
                                                   : request->reason()));
    response->set_node_id(id);
    log::Info(
        "coordinator: node " + id +
        (request->undrain() ? " undrained" : " drained: " + request->reason()));
    // An undrained node may take a pending job now.
    if (request->undrain()) jobs_->Schedule();
    return Status::Ok();
  });
}

grpc::ServerUnaryReactor* CoordinatorService::ReportMetrics(
    grpc::CallbackServerContext* context,
    const proto::ReportMetricsRequest* request, proto::ReportMetricsResponse*) {
  return Unary(context, "ReportMetrics", Role::kNode, "",
               [&]() -> Status { return jobs_->ReportMetrics(*request); });
}

grpc::ServerUnaryReactor* CoordinatorService::ReportWorkerExit(
    grpc::CallbackServerContext* context,
    const proto::ReportWorkerExitRequest* request,
    proto::ReportWorkerExitResponse*) {
  return Unary(context, "ReportWorkerExit", Role::kNode, "", [&]() -> Status {
    return jobs_->ReportWorkerExit(request->node_id(), request->job_id(),
                                   request->attempt(), request->exit());
  });
}

grpc::ServerUnaryReactor* CoordinatorService::KvSet(
    grpc::CallbackServerContext* context, const proto::KvSetRequest* request,
    proto::KvSetResponse*) {
  return Unary(
      context, "KvSet", Role::kJob, request->job_id(), [&]() -> Status {
        return kv_->Set(request->job_id(), request->key(), request->value());
      });
}

grpc::ServerUnaryReactor* CoordinatorService::KvGet(
    grpc::CallbackServerContext* context, const proto::KvGetRequest* request,
    proto::KvGetResponse* response) {
  return Unary(
      context, "KvGet", Role::kJob, request->job_id(), [&]() -> Status {
        DSTRAIN_ASSIGN_OR_RETURN(std::optional<std::string> value,
                                 kv_->Get(request->job_id(), request->key()));
        response->set_found(value.has_value());
        if (value.has_value()) response->set_value(*value);
        return Status::Ok();
      });
}

grpc::ServerUnaryReactor* CoordinatorService::KvAdd(
    grpc::CallbackServerContext* context, const proto::KvAddRequest* request,
    proto::KvAddResponse* response) {
  return Unary(
      context, "KvAdd", Role::kJob, request->job_id(), [&]() -> Status {
        DSTRAIN_ASSIGN_OR_RETURN(
            std::int64_t sum,
            kv_->Add(request->job_id(), request->key(), request->delta()));
        response->set_value(sum);
        return Status::Ok();
      });
}

grpc::ServerUnaryReactor* CoordinatorService::KvCompareSet(
    grpc::CallbackServerContext* context,
    const proto::KvCompareSetRequest* request,
    proto::KvCompareSetResponse* response) {
  return Unary(context, "KvCompareSet", Role::kJob, request->job_id(),
               [&]() -> Status {
                 DSTRAIN_ASSIGN_OR_RETURN(
                     std::string after,
                     kv_->CompareSet(request->job_id(), request->key(),
                                     request->expected(), request->desired()));
                 response->set_value(after);
                 return Status::Ok();
               });
}

grpc::ServerUnaryReactor* CoordinatorService::KvDelete(
    grpc::CallbackServerContext* context, const proto::KvDeleteRequest* request,
    proto::KvDeleteResponse* response) {
  return Unary(
      context, "KvDelete", Role::kJob, request->job_id(), [&]() -> Status {
        DSTRAIN_ASSIGN_OR_RETURN(
            bool deleted, kv_->Delete(request->job_id(), request->key()));
        response->set_deleted(deleted);
        return Status::Ok();
      });
}

grpc::ServerUnaryReactor* CoordinatorService::KvCheck(
    grpc::CallbackServerContext* context, const proto::KvCheckRequest* request,
    proto::KvCheckResponse* response) {
  return Unary(context, "KvCheck", Role::kJob, request->job_id(),
               [&]() -> Status {
                 std::vector<std::string> keys(request->keys().begin(),
                                               request->keys().end());
                 DSTRAIN_ASSIGN_OR_RETURN(RendezvousStore::CheckResult r,
                                          kv_->Check(request->job_id(), keys));
                 response->set_all_present(r.missing.empty());
                 response->set_num_keys(r.num_keys);
                 for (const std::string& k : r.missing)
                   response->add_missing(k);
                 return Status::Ok();
               });
}

grpc::ServerUnaryReactor* CoordinatorService::KvBatch(
    grpc::CallbackServerContext* context, const proto::KvBatchRequest* request,
    proto::KvBatchResponse* response) {
  return Unary(
      context, "KvBatch", Role::kJob, request->job_id(), [&]() -> Status {
        const std::string& job = request->job_id();
        for (const proto::KvOp& op : request->ops()) {
          proto::KvOpResult* r = response->add_results();
          Status s;
          switch (op.kind()) {
            case proto::KvOp::SET:
              s = kv_->Set(job, op.key(), op.value());
              break;
            case proto::KvOp::GET: {
              StatusOr<std::optional<std::string>> v = kv_->Get(job, op.key());
              s = v.status();
              if (v.ok() && v->has_value()) {
                r->set_found(true);
                r->set_value(**v);
              }
              break;
            }
            case proto::KvOp::ADD: {
              StatusOr<std::int64_t> sum = kv_->Add(job, op.key(), op.delta());
              s = sum.status();
              if (sum.ok()) r->set_number(*sum);
              break;
            }
            case proto::KvOp::COMPARE_SET: {
              StatusOr<std::string> after =
                  kv_->CompareSet(job, op.key(), op.expected(), op.value());
              s = after.status();
              if (after.ok()) r->set_value(*after);
              break;
            }
            case proto::KvOp::DELETE: {
              StatusOr<bool> deleted = kv_->Delete(job, op.key());
              s = deleted.status();
              if (deleted.ok()) r->set_deleted(*deleted);
              break;
            }
            default:
              s = InvalidArgument("KvBatch: unknown operation " +
                                  std::to_string(op.kind()));
          }
          if (!s.ok()) {
            r->set_code(static_cast<int>(s.code()));
            r->set_message(s.message());
          }
        }
        return Status::Ok();
      });
}

grpc::ServerUnaryReactor* CoordinatorService::KvWait(
    grpc::CallbackServerContext* context, const proto::KvWaitRequest* request,
    proto::KvWaitResponse*) {
  context->AddInitialMetadata(rpc::kCoordinatorInstanceKey, instance_);
  grpc::Status auth = Check(context, "KvWait", Role::kJob, request->job_id());
  if (!auth.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(auth);
    return reactor;
  }
  std::vector<std::string> keys(request->keys().begin(), request->keys().end());
  return new KeyWaitReactor(kv_, request->job_id(), keys, "KvWait", nullptr);
}

grpc::ServerUnaryReactor* CoordinatorService::KvFence(
    grpc::CallbackServerContext* context, const proto::KvFenceRequest* request,
    proto::KvFenceResponse* response) {
  context->AddInitialMetadata(rpc::kCoordinatorInstanceKey, instance_);
  grpc::Status refused =
      Check(context, "KvFence", Role::kJob, request->job_id());
  Status joined;
  if (refused.ok()) {
    joined = CheckFence(*request);
    if (joined.ok()) {
      std::vector<std::pair<int, std::string>> contributions;
      contributions.reserve(request->contributions_size());
      for (const proto::KvFenceRecord& c : request->contributions()) {
        contributions.emplace_back(c.rank(), c.record());
      }
      joined = kv_->JoinFence(request->job_id(), request->name(),
                              request->world(), contributions)
                   .status();
    }
    if (!joined.ok()) refused = rpc::ToGrpcStatus(joined);
  }
  if (!refused.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(refused);
    return reactor;
  }
  const std::string job = request->job_id();
  const std::string name = request->name();
  return new KeyWaitReactor(
      kv_, job, {rendezvous::FenceDoneKey(name)}, "KvFence",
      [this, job, name, request, response]() -> Status {
        for (int rank : request->want()) {
          DSTRAIN_ASSIGN_OR_RETURN(
              std::optional<std::string> record,
              kv_->Get(job, rendezvous::FenceRecordKey(name, rank)));
          if (!record.has_value()) {
            return FailedPrecondition("fence `" + name + "`: rank " +
                                      std::to_string(rank) +
                                      "'s record was deleted");
          }
          proto::KvFenceRecord* out = response->add_records();
          out->set_rank(rank);
          out->set_record(std::move(*record));
        }
        return Status::Ok();
      });
}

grpc::ServerUnaryReactor* CoordinatorService::GetLogs(
    grpc::CallbackServerContext* context, const proto::GetLogsRequest* request,
    proto::GetLogsResponse* response) {
  context->AddInitialMetadata(rpc::kCoordinatorInstanceKey, instance_);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status auth = Check(context, "GetLogs", Role::kViewer, "");
  if (!auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  StatusOr<proto::JobStatus> job =
      jobs_->GetJobStatus(request->job_id(), std::numeric_limits<int>::max());
  StatusOr<std::vector<LogRead>> reads =
      job.ok() ? PlanLogReads(*request, *job, nodes_->List())
               : StatusOr<std::vector<LogRead>>(job.status());
  if (!reads.ok()) {
    reactor->Finish(rpc::ToGrpcStatus(reads.status()));
    return reactor;
  }
  const int attempt =
      request->has_attempt() ? request->attempt() : job->attempt();
  // Every agent at once; the last answer merges and finishes.
  struct Gather {
    std::vector<LogRead> reads;
    std::vector<StatusOr<proto::ReadLogsResponse>> results;
    std::atomic<int> left{0};
  };
  auto gather = std::make_shared<Gather>();
  gather->reads = std::move(reads).value();
  gather->results.assign(gather->reads.size(),
                         Status(StatusCode::kUnavailable, "not read"));
  gather->left = static_cast<int>(gather->reads.size());
  const auto finish = [gather, reactor, response, attempt] {
    *response = MergeLogReads(gather->reads, gather->results, attempt);
    reactor->Finish(grpc::Status::OK);
  };
  if (gather->reads.empty()) {
    finish();
    return reactor;
  }
  for (std::size_t i = 0; i < gather->reads.size(); ++i) {
    const LogRead& read = gather->reads[i];
    auto done = [gather, i, finish](StatusOr<proto::ReadLogsResponse> r) {
      gather->results[i] = std::move(r);
      if (gather->left.fetch_sub(1) == 1) finish();
    };
    if (read.lost) {
      done(Status(StatusCode::kUnavailable, "the node is lost"));
    } else if (read.agent_address.empty()) {
      done(Status(StatusCode::kUnavailable, "its agent's address is unknown"));
    } else {
      agents_->ReadLogsAsync(read.agent_address, read.request, done);
    }
  }
  return reactor;
}

}  // namespace dstrain::coordinator
