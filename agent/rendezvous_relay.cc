#include "agent/rendezvous_relay.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "common/rpc/auth.h"

namespace dstrain::agent {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string InstanceOf(const grpc::ClientContext& context) {
  const auto& md = context.GetServerInitialMetadata();
  auto it = md.find(rpc::kCoordinatorInstanceKey);
  return it == md.end() ? std::string()
                        : std::string(it->second.data(), it->second.size());
}

std::string WaitKey(const std::string& job_id, const std::string& token,
                    const std::vector<std::string>& keys) {
  std::string k = job_id + '\n' + token;
  for (const std::string& key : keys) k += '\n' + key;
  return k;
}

}  // namespace

struct RendezvousRelay::WaitGroup {
  std::string map_key;
  std::chrono::system_clock::time_point deadline;
  std::map<WaitId, WaitDone> waiters;  // guarded by the relay's mu_
  bool finished = false;               // guarded by the relay's mu_
  grpc::ClientContext context;
  proto::KvWaitRequest request;
  proto::KvWaitResponse response;
};

RendezvousRelay::RendezvousRelay(std::shared_ptr<grpc::Channel> coordinator,
                                 RelayOptions options)
    : stub_(proto::Coordinator::NewStub(std::move(coordinator))),
      options_(options) {}

RendezvousRelay::~RendezvousRelay() { Shutdown(); }

void RendezvousRelay::CallDone() {
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  cv_.notify_all();
}

void RendezvousRelay::Submit(const std::string& job_id,
                             const std::string& token, proto::KvOp op,
                             OpDone done) {
  std::optional<Queue> full;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!stopping_) {
      ++counters_.ops;
      Queue& q = queues_[{job_id, token}];
      if (q.ops.empty()) {
        q.job_id = job_id;
        q.token = token;
        q.first = SteadyClock::now();
      }
      q.ops.push_back(Pending{std::move(op), std::move(done)});
      if (static_cast<int>(q.ops.size()) < options_.max_batch) {
        // Sent when its window ends.
        ArmLocked(q.first + options_.window);
        return;
      }
      full = std::move(q);
      queues_.erase({job_id, token});
    }
  }
  if (full.has_value()) {
    SendBatch(std::move(*full));
    return;
  }
  done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                    "the agent's rendezvous relay is shutting down"),
       proto::KvOpResult(), "");
}

void RendezvousRelay::ArmLocked(SteadyClock::time_point when) {
  // Windows open in time order, so an armed alarm is never later than a
  // new queue's end of window; the alarm re-arms for what it leaves.
  if (alarm_armed_ || stopping_) return;
  alarm_armed_ = true;
  ++in_flight_;
  // A fresh alarm each time (a gRPC alarm is set once); replacing the
  // previous one is safe even from its own callback, which holds its own
  // reference to what it runs on.
  alarm_ = std::make_unique<grpc::Alarm>();
  alarm_->Set(std::chrono::system_clock::now() + (when - SteadyClock::now()),
              [this](bool) { OnAlarm(); });
}

void RendezvousRelay::OnAlarm() {
  std::vector<Queue> due;
  std::vector<FenceQueue> due_fences;
  bool stopping = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    alarm_armed_ = false;
    stopping = stopping_;
    // Due: the queues whose window is over (all of them when stopping).
    const SteadyClock::time_point now = SteadyClock::now();
    SteadyClock::time_point next = SteadyClock::time_point::max();
    for (auto it = queues_.begin(); it != queues_.end();) {
      if (stopping || now >= it->second.first + options_.window) {
        due.push_back(std::move(it->second));
        it = queues_.erase(it);
      } else {
        next = std::min(next, it->second.first + options_.window);
        ++it;
      }
    }
    for (auto it = fences_.begin(); it != fences_.end();) {
      if (stopping || now >= it->second.first + options_.window) {
        due_fences.push_back(std::move(it->second));
        it = fences_.erase(it);
      } else {
        next = std::min(next, it->second.first + options_.window);
        ++it;
      }
    }
    if (next != SteadyClock::time_point::max()) ArmLocked(next);
  }
  if (stopping) {
    // What is queued is answered, not sent.
    const grpc::Status down(grpc::StatusCode::UNAVAILABLE,
                            "the agent's rendezvous relay is shutting down");
    for (Queue& q : due) {
      for (Pending& p : q.ops) p.done(down, proto::KvOpResult(), "");
    }
    for (FenceQueue& f : due_fences) {
      for (FenceCaller& c : f.callers) {
        c.done(down, proto::KvFenceResponse(), "");
      }
    }
  } else {
    for (Queue& q : due) SendBatch(std::move(q));
    for (FenceQueue& f : due_fences) SendFence(std::move(f));
  }
  CallDone();
}

void RendezvousRelay::SendBatch(Queue queue) {
  struct Call {
    grpc::ClientContext context;
    proto::KvBatchRequest request;
    proto::KvBatchResponse response;
    std::vector<OpDone> done;
  };
  auto* call = new Call;
  call->request.set_job_id(queue.job_id);
  for (Pending& p : queue.ops) {
    *call->request.add_ops() = std::move(p.op);
    call->done.push_back(std::move(p.done));
  }
  rpc::AddToken(&call->context, queue.token);
  // The ranks' own calls have deadlines and retry; one batch is bounded.
  call->context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.batches;
    ++in_flight_;
  }
  stub_->async()->KvBatch(
      &call->context, &call->request, &call->response,
      [this, call](grpc::Status status) {
        const std::string instance = InstanceOf(call->context);
        const proto::KvOpResult none;
        for (std::size_t i = 0; i < call->done.size(); ++i) {
          const bool answered =
              status.ok() &&
              i < static_cast<std::size_t>(call->response.results_size());
          if (status.ok() && !answered) {
            status = grpc::Status(grpc::StatusCode::INTERNAL,
                                  "KvBatch answered fewer results than ops");
          }
          call->done[i](
              status,
              answered ? call->response.results(static_cast<int>(i)) : none,
              instance);
        }
        delete call;
        CallDone();
      });
}

void RendezvousRelay::Fence(const std::string& token,
                            proto::KvFenceRequest request,
                            std::chrono::system_clock::time_point deadline,
                            FenceDone done) {
  deadline = std::min(
      deadline, std::chrono::system_clock::now() + std::chrono::hours(24));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      ++counters_.fence_joins;
      const std::string key = request.job_id() + '\n' + token + '\n' +
                              request.name() + '\n' +
                              std::to_string(request.world());
      FenceQueue& f = fences_[key];
      if (f.callers.empty()) {
        f.token = token;
        f.request.set_job_id(request.job_id());
        f.request.set_name(request.name());
        f.request.set_world(request.world());
        f.deadline = deadline;
        f.first = SteadyClock::now();
        ArmLocked(f.first + options_.window);
      }
      f.deadline = std::max(f.deadline, deadline);
      for (proto::KvFenceRecord& c : *request.mutable_contributions()) {
        *f.request.add_contributions() = std::move(c);
      }
      for (int r : request.want()) f.request.add_want(r);
      f.callers.push_back(FenceCaller{
          std::vector<int>(request.want().begin(), request.want().end()),
          std::move(done)});
      return;
    }
  }
  done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                    "the agent's rendezvous relay is shutting down"),
       proto::KvFenceResponse(), "");
}

void RendezvousRelay::SendFence(FenceQueue fence) {
  struct Call {
    grpc::ClientContext context;
    proto::KvFenceRequest request;
    proto::KvFenceResponse response;
    std::vector<FenceCaller> callers;
  };
  auto* call = new Call;
  call->request = std::move(fence.request);
  // Each wanted rank once: the node's ranks often want the same ones.
  std::vector<int> want(call->request.want().begin(),
                        call->request.want().end());
  std::sort(want.begin(), want.end());
  want.erase(std::unique(want.begin(), want.end()), want.end());
  call->request.clear_want();
  for (int r : want) call->request.add_want(r);
  call->callers = std::move(fence.callers);
  rpc::AddToken(&call->context, fence.token);
  call->context.set_deadline(fence.deadline);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.upstream_fences;
    ++in_flight_;
  }
  stub_->async()->KvFence(
      &call->context, &call->request, &call->response,
      [this, call](grpc::Status status) {
        const std::string instance = InstanceOf(call->context);
        std::map<int, const proto::KvFenceRecord*> by_rank;
        for (const proto::KvFenceRecord& r : call->response.records()) {
          by_rank[r.rank()] = &r;
        }
        for (FenceCaller& c : call->callers) {
          proto::KvFenceResponse mine;
          grpc::Status s = status;
          for (int r : c.want) {
            auto it = by_rank.find(r);
            if (it != by_rank.end()) {
              *mine.add_records() = *it->second;
            } else if (s.ok()) {
              s = grpc::Status(grpc::StatusCode::INTERNAL,
                               "KvFence answered without rank " +
                                   std::to_string(r) + "'s record");
            }
          }
          c.done(s, mine, instance);
        }
        delete call;
        CallDone();
      });
}

RendezvousRelay::WaitId RendezvousRelay::Wait(
    const std::string& job_id, const std::string& token,
    std::vector<std::string> keys,
    std::chrono::system_clock::time_point deadline, WaitDone done) {
  // A call without a deadline has an infinite one; the upstream's is bounded.
  deadline = std::min(
      deadline, std::chrono::system_clock::now() + std::chrono::hours(24));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const std::string map_key = WaitKey(job_id, token, keys);
  std::shared_ptr<WaitGroup> start;
  WaitId id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      id = 0;
    } else {
      id = next_wait_++;
      ++counters_.waits;
      std::shared_ptr<WaitGroup> group;
      auto [begin, end] = wait_groups_.equal_range(map_key);
      for (auto it = begin; it != end; ++it) {
        if (!it->second->finished && it->second->deadline >= deadline) {
          group = it->second;
          break;
        }
      }
      if (group == nullptr) {
        group = std::make_shared<WaitGroup>();
        group->map_key = map_key;
        group->deadline = deadline + options_.wait_slack;
        group->request.set_job_id(job_id);
        for (const std::string& k : keys) group->request.add_keys(k);
        rpc::AddToken(&group->context, token);
        group->context.set_deadline(group->deadline);
        wait_groups_.emplace(map_key, group);
        ++counters_.upstream_waits;
        ++in_flight_;
        start = group;
      }
      group->waiters.emplace(id, std::move(done));
      waiter_group_[id] = group;
    }
  }
  if (id == 0) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      "the agent's rendezvous relay is shutting down"),
         "");
    return 0;
  }
  if (start != nullptr) StartUpstreamWait(std::move(start));
  return id;
}

void RendezvousRelay::StartUpstreamWait(std::shared_ptr<WaitGroup> group) {
  WaitGroup* g = group.get();
  stub_->async()->KvWait(
      &g->context, &g->request, &g->response,
      [this, group = std::move(group)](grpc::Status status) {
        std::map<WaitId, WaitDone> waiters;
        {
          std::lock_guard<std::mutex> lock(mu_);
          group->finished = true;
          waiters.swap(group->waiters);
          for (const auto& [id, done] : waiters) waiter_group_.erase(id);
          auto [begin, end] = wait_groups_.equal_range(group->map_key);
          for (auto it = begin; it != end; ++it) {
            if (it->second == group) {
              wait_groups_.erase(it);
              break;
            }
          }
        }
        const std::string instance = InstanceOf(group->context);
        for (auto& [id, done] : waiters) done(status, instance);
        CallDone();
      });
}

void RendezvousRelay::CancelWait(WaitId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = waiter_group_.find(id);
  if (it == waiter_group_.end()) return;
  std::shared_ptr<WaitGroup> group = it->second;
  waiter_group_.erase(it);
  group->waiters.erase(id);
  // Nobody left waiting: the coordinator need not hold the wait either.
  if (group->waiters.empty() && !group->finished) group->context.TryCancel();
}

void RendezvousRelay::Check(const std::string& token,
                            const proto::KvCheckRequest& request,
                            CheckDone done) {
  struct Call {
    grpc::ClientContext context;
    proto::KvCheckRequest request;
    proto::KvCheckResponse response;
    CheckDone done;
  };
  auto* call = new Call;
  call->request = request;
  call->done = std::move(done);
  rpc::AddToken(&call->context, token);
  call->context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      call->done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "the agent's rendezvous relay is shutting down"),
                 proto::KvCheckResponse(), "");
      delete call;
      return;
    }
    ++in_flight_;
  }
  stub_->async()->KvCheck(&call->context, &call->request, &call->response,
                          [this, call](grpc::Status status) {
                            call->done(status, call->response,
                                       InstanceOf(call->context));
                            delete call;
                            CallDone();
                          });
}

void RendezvousRelay::Shutdown() {
  std::vector<std::shared_ptr<WaitGroup>> groups;
  grpc::Alarm* armed = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && in_flight_ == 0) return;
    stopping_ = true;
    for (auto& [key, group] : wait_groups_) groups.push_back(group);
    armed = alarm_armed_ ? alarm_.get() : nullptr;
  }
  // Once stopping, the alarm is never replaced. Cancelled, it fires now
  // and answers what is queued (outside the lock: it takes the lock).
  if (armed != nullptr) armed->Cancel();
  for (auto& group : groups) group->context.TryCancel();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ == 0; });
}

RendezvousRelay::Counters RendezvousRelay::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace dstrain::agent
