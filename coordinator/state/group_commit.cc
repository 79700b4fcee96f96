#include "coordinator/state/group_commit.h"

#include <utility>
#include <vector>

namespace dstrain::coordinator {

GroupCommit::~GroupCommit() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !leading_; });
  while (!queue_.empty()) LeadLocked(lock);
}

GroupCommit::Ticket GroupCommit::Enqueue(Write write) {
  std::lock_guard<std::mutex> lock(mu_);
  const Ticket t = next_++;
  queue_.push_back(Queued{t, std::move(write)});
  return t;
}

Status GroupCommit::Await(Ticket ticket) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto done = results_.find(ticket);
    if (done != results_.end()) {
      Status s = std::move(done->second);
      results_.erase(done);
      return s;
    }
    if (!leading_ && !queue_.empty()) {
      LeadLocked(lock);
    } else {
      cv_.wait(lock);
    }
  }
}

void GroupCommit::LeadLocked(std::unique_lock<std::mutex>& lock) {
  leading_ = true;
  std::deque<Queued> batch;
  batch.swap(queue_);
  lock.unlock();
  std::vector<Status> statuses(batch.size());
  const Status committed = store_->Batch([&] {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      statuses[i] = batch[i].write(*store_);
    }
  });
  lock.lock();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    // A commit that failed took every write of the batch with it.
    results_[batch[i].ticket] = committed.ok() ? statuses[i] : committed;
  }
  ++batches_;
  leading_ = false;
  cv_.notify_all();
}

std::uint64_t GroupCommit::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

}  // namespace dstrain::coordinator
