#include "agent/rendezvous_relay.h"

#include <grpcpp/client_context.h>

#include <algorithm>
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
      options_(options) {
  flusher_ = std::thread([this] { FlushLoop(); });
}

RendezvousRelay::~RendezvousRelay() { Shutdown(); }

void RendezvousRelay::CallDone() {
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  cv_.notify_all();
}

void RendezvousRelay::Submit(const std::string& job_id,
                             const std::string& token, proto::KvOp op,
                             OpDone done) {
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
      // The flusher sends at once a full queue, else after the window.
      if (q.ops.size() == 1 ||
          static_cast<int>(q.ops.size()) >= options_.max_batch) {
        cv_.notify_all();
      }
      return;
    }
  }
  done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                    "the agent's rendezvous relay is shutting down"),
       proto::KvOpResult(), "");
}

void RendezvousRelay::FlushLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_) break;
    // Due: full queues, and those whose window is over.
    const SteadyClock::time_point now = SteadyClock::now();
    SteadyClock::time_point next = SteadyClock::time_point::max();
    std::vector<Queue> due;
    for (auto it = queues_.begin(); it != queues_.end();) {
      Queue& q = it->second;
      if (static_cast<int>(q.ops.size()) >= options_.max_batch ||
          now >= q.first + options_.window) {
        due.push_back(std::move(q));
        it = queues_.erase(it);
      } else {
        next = std::min(next, q.first + options_.window);
        ++it;
      }
    }
    if (!due.empty()) {
      lock.unlock();
      for (Queue& q : due) SendBatch(std::move(q));
      lock.lock();
      continue;
    }
    if (next == SteadyClock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, next);
    }
  }
  // Stopping: what is queued is answered, not sent.
  std::vector<Queue> left;
  for (auto& [key, q] : queues_) left.push_back(std::move(q));
  queues_.clear();
  lock.unlock();
  for (Queue& q : left) {
    for (Pending& p : q.ops) {
      p.done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the agent's rendezvous relay is shutting down"),
             proto::KvOpResult(), "");
    }
  }
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      cv_.notify_all();
    }
    for (auto& [key, group] : wait_groups_) groups.push_back(group);
  }
  if (flusher_.joinable()) flusher_.join();
  for (auto& group : groups) group->context.TryCancel();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return in_flight_ == 0; });
}

RendezvousRelay::Counters RendezvousRelay::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace dstrain::agent
