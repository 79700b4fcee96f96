#pragma once
// The gRPC face of an agent's RendezvousRelay (rendezvous_relay.h): the
// Coordinator service's key-value methods (KvSet, KvGet, KvAdd,
// KvCompareSet, KvDelete, KvCheck, KvWait, KvFence) served on the agent's
// own server, so a worker's CoordinatorKvStore works unchanged whether it is
// pointed at the coordinator or at its agent; every other Coordinator
// method is UNIMPLEMENTED here. The caller's credential is forwarded, not
// checked (the coordinator checks it; a call without one is
// UNAUTHENTICATED at once). Each answer carries the instance of the
// coordinator that gave it.
//
// KvGet waits for an absent key as the coordinator's does not: it is a
// plain read there too (the client waits with KvWait), so it is relayed as
// a batched GET. KvWait's waiter leaves the relay when its call is
// cancelled or its deadline passes. The relay must outlive the server.

#include "agent/rendezvous_relay.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::agent {

class RendezvousRelayService final
    : public proto::Coordinator::CallbackService {
 public:
  explicit RendezvousRelayService(RendezvousRelay* relay) : relay_(relay) {}

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
  grpc::ServerUnaryReactor* KvFence(grpc::CallbackServerContext* context,
                                    const proto::KvFenceRequest* request,
                                    proto::KvFenceResponse* response) override;

 private:
  // Relays `op` and finishes the call; `fill` copies the result into the
  // response when the operation succeeded.
  grpc::ServerUnaryReactor* Relay(
      grpc::CallbackServerContext* context, const std::string& job_id,
      proto::KvOp op, std::function<void(const proto::KvOpResult&)> fill);

  RendezvousRelay* const relay_;
};

}  // namespace dstrain::agent
