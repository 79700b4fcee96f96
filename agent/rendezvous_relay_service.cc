#include "agent/rendezvous_relay_service.h"

#include <atomic>
#include <memory>

#include "common/rpc/auth.h"
#include "common/status.h"

namespace dstrain::agent {
namespace {

void NoteInstance(grpc::CallbackServerContext* context,
                  const std::string& instance) {
  if (!instance.empty()) {
    context->AddInitialMetadata(rpc::kCoordinatorInstanceKey, instance);
  }
}

grpc::Status Unauthenticated(const Status& s) {
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, s.message());
}

// KvWait's reactor: finished exactly once, by the relay's callback or by
// OnCancel (racing on different threads); the flag lives in a block the
// callback keeps alive, as the callback may outlive the reactor.
class RelayWaitReactor : public grpc::ServerUnaryReactor {
 public:
  RelayWaitReactor(RendezvousRelay* relay, grpc::CallbackServerContext* context,
                   const proto::KvWaitRequest& request,
                   const std::string& token)
      : relay_(relay), shared_(std::make_shared<Shared>()) {
    shared_->reactor = this;
    shared_->context = context;
    std::shared_ptr<Shared> shared = shared_;
    id_ = relay_->Wait(
        request.job_id(), token,
        std::vector<std::string>(request.keys().begin(), request.keys().end()),
        context->deadline(),
        [shared](const grpc::Status& s, const std::string& instance) {
          if (!shared->finished.exchange(true)) {
            NoteInstance(shared->context, instance);
            shared->reactor->Finish(s);
          }
        });
  }
  void OnCancel() override {
    relay_->CancelWait(id_);
    if (!shared_->finished.exchange(true)) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED,
                          "KvWait cancelled (client deadline or hang-up)"));
    }
  }
  void OnDone() override {
    relay_->CancelWait(id_);
    delete this;
  }

 private:
  struct Shared {
    std::atomic<bool> finished{false};
    RelayWaitReactor* reactor = nullptr;  // valid until finished is set
    grpc::CallbackServerContext* context = nullptr;
  };
  RendezvousRelay* const relay_;
  std::shared_ptr<Shared> shared_;
  RendezvousRelay::WaitId id_ = 0;
};

}  // namespace

grpc::ServerUnaryReactor* RendezvousRelayService::Relay(
    grpc::CallbackServerContext* context, const std::string& job_id,
    proto::KvOp op, std::function<void(const proto::KvOpResult&)> fill) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  StatusOr<std::string> token = rpc::PresentedToken(context->client_metadata());
  if (!token.ok()) {
    reactor->Finish(Unauthenticated(token.status()));
    return reactor;
  }
  relay_->Submit(
      job_id, *token, std::move(op),
      [context, reactor, fill = std::move(fill)](
          const grpc::Status& status, const proto::KvOpResult& result,
          const std::string& instance) {
        NoteInstance(context, instance);
        if (!status.ok()) {
          reactor->Finish(status);
        } else if (result.code() != 0) {
          reactor->Finish(grpc::Status(
              static_cast<grpc::StatusCode>(result.code()), result.message()));
        } else {
          fill(result);
          reactor->Finish(grpc::Status::OK);
        }
      });
  return reactor;
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvSet(
    grpc::CallbackServerContext* context, const proto::KvSetRequest* request,
    proto::KvSetResponse*) {
  proto::KvOp op;
  op.set_kind(proto::KvOp::SET);
  op.set_key(request->key());
  op.set_value(request->value());
  return Relay(context, request->job_id(), std::move(op),
               [](const proto::KvOpResult&) {});
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvGet(
    grpc::CallbackServerContext* context, const proto::KvGetRequest* request,
    proto::KvGetResponse* response) {
  proto::KvOp op;
  op.set_kind(proto::KvOp::GET);
  op.set_key(request->key());
  return Relay(context, request->job_id(), std::move(op),
               [response](const proto::KvOpResult& r) {
                 response->set_found(r.found());
                 response->set_value(r.value());
               });
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvAdd(
    grpc::CallbackServerContext* context, const proto::KvAddRequest* request,
    proto::KvAddResponse* response) {
  proto::KvOp op;
  op.set_kind(proto::KvOp::ADD);
  op.set_key(request->key());
  op.set_delta(request->delta());
  return Relay(context, request->job_id(), std::move(op),
               [response](const proto::KvOpResult& r) {
                 response->set_value(r.number());
               });
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvCompareSet(
    grpc::CallbackServerContext* context,
    const proto::KvCompareSetRequest* request,
    proto::KvCompareSetResponse* response) {
  proto::KvOp op;
  op.set_kind(proto::KvOp::COMPARE_SET);
  op.set_key(request->key());
  op.set_expected(request->expected());
  op.set_value(request->desired());
  return Relay(context, request->job_id(), std::move(op),
               [response](const proto::KvOpResult& r) {
                 response->set_value(r.value());
               });
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvDelete(
    grpc::CallbackServerContext* context, const proto::KvDeleteRequest* request,
    proto::KvDeleteResponse* response) {
  proto::KvOp op;
  op.set_kind(proto::KvOp::DELETE);
  op.set_key(request->key());
  return Relay(context, request->job_id(), std::move(op),
               [response](const proto::KvOpResult& r) {
                 response->set_deleted(r.deleted());
               });
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvCheck(
    grpc::CallbackServerContext* context, const proto::KvCheckRequest* request,
    proto::KvCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  StatusOr<std::string> token = rpc::PresentedToken(context->client_metadata());
  if (!token.ok()) {
    reactor->Finish(Unauthenticated(token.status()));
    return reactor;
  }
  relay_->Check(*token, *request,
                [context, reactor, response](const grpc::Status& status,
                                             const proto::KvCheckResponse& r,
                                             const std::string& instance) {
                  NoteInstance(context, instance);
                  if (status.ok()) *response = r;
                  reactor->Finish(status);
                });
  return reactor;
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvWait(
    grpc::CallbackServerContext* context, const proto::KvWaitRequest* request,
    proto::KvWaitResponse*) {
  StatusOr<std::string> token = rpc::PresentedToken(context->client_metadata());
  if (!token.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(Unauthenticated(token.status()));
    return reactor;
  }
  return new RelayWaitReactor(relay_, context, *request, *token);
}

grpc::ServerUnaryReactor* RendezvousRelayService::KvFence(
    grpc::CallbackServerContext* context, const proto::KvFenceRequest* request,
    proto::KvFenceResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  StatusOr<std::string> token = rpc::PresentedToken(context->client_metadata());
  if (!token.ok()) {
    reactor->Finish(Unauthenticated(token.status()));
    return reactor;
  }
  // The relay answers by the call's deadline at the latest (the upstream
  // call's is the latest of its callers'), so the call stays open until
  // then rather than holding a waiter to cancel.
  relay_->Fence(*token, *request, context->deadline(),
                [context, reactor, response](const grpc::Status& status,
                                             const proto::KvFenceResponse& r,
                                             const std::string& instance) {
                  NoteInstance(context, instance);
                  if (status.ok()) *response = r;
                  reactor->Finish(status);
                });
  return reactor;
}

}  // namespace dstrain::agent
