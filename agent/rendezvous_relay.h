#pragma once
// The rendezvous relay of one node: its ranks' key-value calls go to their
// agent, which sends them on to the coordinator batched, so a 2,048-node
// job costs the coordinator calls per node, not per rank (the coordinator
// serves a few thousand gRPC calls a second per core; 16,384 ranks' five
// calls each would take seconds).
//
//   Submit   a set, get (no waiting), add, compare-and-set or delete: queued
//            per (job, credential); a queue goes out as one KvBatch when it
//            holds `max_batch` operations or `window` after its first one,
//            whichever is first. Each operation gets its own result.
//   Wait     waits of the same job, credential and keys share one upstream
//            KvWait: the node's eight ranks waiting for a barrier key are
//            one waiter in the coordinator. A waiter joins a shared wait
//            whose upstream deadline is not before its own; the upstream
//            deadline is the first waiter's plus `wait_slack` (each waiter
//            leaves at its own deadline: CancelWait).
//   Fence    joins of the same fence (job, credential, name, world) are
//            queued like Submit's operations and go out as one KvFence
//            holding every queued rank's record and the union of what
//            they want; each caller gets the records it asked for. A
//            node's eight ranks joining a fence cost the coordinator one
//            call, which it answers when the fence is complete.
//   Check    forwarded as it is.
//
// The relay keeps no keys and decides nothing: the coordinator checks each
// call's credential (the ranks', forwarded unchanged; operations of
// different credentials never share a batch) and answers; every answer
// carries the coordinator instance that gave it (rpc::
// kCoordinatorInstanceKey), which the relay hands back with each result,
// so ranks see a coordinator restart as if they called it directly
// (coordinator/client/coordinator_kv_store.h). An upstream failure
// (UNAVAILABLE while the coordinator restarts) is every operation's of the
// batch; the ranks retry.
//
// The gRPC face ranks call is RendezvousRelayService
// (rendezvous_relay_service.h); the coordinator benchmark drives this core
// directly. Thread-safe. Callbacks run on gRPC's threads (a gRPC alarm
// ends each window: the relay has no thread of its own) or on a caller's
// thread, never under the relay's lock, and must not block. Shutdown (and
// the destructor) answers what is queued with UNAVAILABLE, cancels the
// upstream calls and returns once their callbacks have run.

#include <grpcpp/alarm.h>
#include <grpcpp/channel.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dstrain.grpc.pb.h"

namespace dstrain::agent {

struct RelayOptions {
  std::chrono::microseconds window{1000};
  int max_batch = 1024;
  std::chrono::milliseconds wait_slack{5000};
};

class RendezvousRelay {
 public:
  // `instance`: the coordinator instance that answered ("" when none did).
  using OpDone = std::function<void(const grpc::Status& status,
                                    const proto::KvOpResult& result,
                                    const std::string& instance)>;
  using WaitDone = std::function<void(const grpc::Status& status,
                                      const std::string& instance)>;
  using CheckDone = std::function<void(const grpc::Status& status,
                                       const proto::KvCheckResponse& response,
                                       const std::string& instance)>;
  using FenceDone = std::function<void(const grpc::Status& status,
                                       const proto::KvFenceResponse& records,
                                       const std::string& instance)>;
  using WaitId = std::uint64_t;

  RendezvousRelay(std::shared_ptr<grpc::Channel> coordinator,
                  RelayOptions options = {});
  ~RendezvousRelay();
  RendezvousRelay(const RendezvousRelay&) = delete;
  RendezvousRelay& operator=(const RendezvousRelay&) = delete;

  // grpc status: the batch's (e.g. UNAVAILABLE); when OK, result.code is
  // the operation's own.
  void Submit(const std::string& job_id, const std::string& token,
              proto::KvOp op, OpDone done);
  WaitId Wait(const std::string& job_id, const std::string& token,
              std::vector<std::string> keys,
              std::chrono::system_clock::time_point deadline, WaitDone done);
  // The waiter leaves; its `done` is not called.
  void CancelWait(WaitId id);
  void Check(const std::string& token, const proto::KvCheckRequest& request,
             CheckDone done);
  // Joins `request`'s contributions to its fence; `done` gets, once the
  // fence is complete, the records of request.want() (the relay's answer
  // carries only those). The upstream call's deadline is the latest of
  // its callers'.
  void Fence(const std::string& token, proto::KvFenceRequest request,
             std::chrono::system_clock::time_point deadline, FenceDone done);

  void Shutdown();

  struct Counters {
    std::uint64_t ops = 0;              // operations submitted
    std::uint64_t batches = 0;          // KvBatch calls sent
    std::uint64_t waits = 0;            // Wait calls
    std::uint64_t upstream_waits = 0;   // KvWait calls sent
    std::uint64_t fence_joins = 0;      // Fence calls
    std::uint64_t upstream_fences = 0;  // KvFence calls sent
  };
  Counters counters() const;

 private:
  struct Pending {
    proto::KvOp op;
    OpDone done;
  };
  struct Queue {
    std::string job_id, token;
    std::vector<Pending> ops;
    std::chrono::steady_clock::time_point first;
  };
  struct FenceCaller {
    std::vector<int> want;
    FenceDone done;
  };
  struct FenceQueue {
    std::string token;
    proto::KvFenceRequest request;  // contributions and wants so far
    std::vector<FenceCaller> callers;
    std::chrono::system_clock::time_point deadline;
    std::chrono::steady_clock::time_point first;
  };
  struct WaitGroup;

  // Arms the alarm for `when` unless one is armed (expects mu_ held).
  void ArmLocked(std::chrono::steady_clock::time_point when);
  // Sends the queues whose window is over; re-arms for the rest.
  void OnAlarm();
  void SendBatch(Queue queue);
  void SendFence(FenceQueue fence);
  void StartUpstreamWait(std::shared_ptr<WaitGroup> group);
  void CallDone();

  const std::unique_ptr<proto::Coordinator::Stub> stub_;
  const RelayOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::map<std::pair<std::string, std::string>, Queue> queues_;
  std::map<std::string, FenceQueue> fences_;  // by job, token, name, world
  std::multimap<std::string, std::shared_ptr<WaitGroup>> wait_groups_;
  std::map<WaitId, std::shared_ptr<WaitGroup>> waiter_group_;
  WaitId next_wait_ = 1;
  int in_flight_ = 0;  // upstream calls not yet called back
  bool stopping_ = false;
  Counters counters_;
  // One gRPC alarm for the earliest end of window, so a relay holds no
  // thread of its own (guarded by mu_).
  std::unique_ptr<grpc::Alarm> alarm_;
  bool alarm_armed_ = false;
};

}  // namespace dstrain::agent
