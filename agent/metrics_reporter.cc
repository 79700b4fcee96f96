#include "agent/metrics_reporter.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

namespace dstrain::agent {

using Clock = std::chrono::steady_clock;

MetricsReporter::MetricsReporter(ReportSink* sink,
                                 std::function<std::string()> node_id,
                                 MetricsReporterOptions options)
    : sink_(sink), node_id_(std::move(node_id)), options_(std::move(options)) {
  thread_ = std::thread([this] { Loop(); });
}

MetricsReporter::~MetricsReporter() { Stop(); }

void MetricsReporter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      stop_by_ = Clock::now() + options_.stop_budget;
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricsReporter::Push(Item item) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) oldest_ = Clock::now();
    queue_.push_back(std::move(item));
    ++pushed_;
  }
  cv_.notify_all();
}

void MetricsReporter::AddStep(const proto::StepMetrics& m) {
  Item it{Item::Kind::kStep, m.job_id(), m.attempt(), m, {}, {}};
  Push(std::move(it));
}

void MetricsReporter::AddResult(const std::string& job_id, int attempt,
                                const proto::RankResult& r) {
  Item it{Item::Kind::kResult, job_id, attempt, {}, r, {}};
  Push(std::move(it));
}

void MetricsReporter::AddExit(const std::string& job_id, int attempt,
                              const proto::WorkerExit& e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    undelivered_exits_.push_back(PendingExit{job_id, attempt, e.rank()});
  }
  Item it{Item::Kind::kExit, job_id, attempt, {}, {}, e};
  Push(std::move(it));
}

std::vector<MetricsReporter::PendingExit> MetricsReporter::UndeliveredExits() {
  std::lock_guard<std::mutex> lock(mu_);
  return undelivered_exits_;
}

void MetricsReporter::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  std::uint64_t target = pushed_;
  ++flush_waiters_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return sent_ >= target || finished_; });
  --flush_waiters_;
}

std::chrono::milliseconds MetricsReporter::NextCallTimeout() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stopping_) return options_.call_timeout;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      stop_by_ - Clock::now());
  if (left.count() <= 0) return std::chrono::milliseconds(0);
  return std::min(options_.call_timeout, left);
}

void MetricsReporter::Warn(const std::string& message) {
  if (options_.on_warning) {
    options_.on_warning(message);
  } else {
    std::fprintf(stderr, "dstrain agent: %s\n", message.c_str());
  }
}

void MetricsReporter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // Wake for: stop, a flush waiter, a full batch, an exit (sent at once),
    // or the oldest queued item reaching the flush interval.
    auto due = [&] {
      if (queue_.empty()) return false;
      if (stopping_ || flush_waiters_ > 0) return true;
      if (static_cast<int>(queue_.size()) >= options_.batch_lines) return true;
      for (const Item& it : queue_) {
        if (it.kind == Item::Kind::kExit) return true;
      }
      return Clock::now() - oldest_ >= options_.flush_interval;
    };
    while (!due()) {
      if (stopping_ && queue_.empty()) {
        finished_ = true;
        cv_.notify_all();
        return;
      }
      if (queue_.empty()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, oldest_ + options_.flush_interval);
      }
    }
    // A backlog (the coordinator was away) goes out in bounded calls.
    const std::size_t take = std::min(
        queue_.size(),
        static_cast<std::size_t>(std::max(1, options_.max_batch_lines)));
    std::vector<Item> items(
        std::make_move_iterator(queue_.begin()),
        std::make_move_iterator(queue_.begin() +
                                static_cast<std::ptrdiff_t>(take)));
    queue_.erase(queue_.begin(),
                 queue_.begin() + static_cast<std::ptrdiff_t>(take));
    if (!queue_.empty()) oldest_ = Clock::now();
    lock.unlock();
    Send(std::move(items));
    lock.lock();
    cv_.notify_all();
  }
}

void MetricsReporter::Send(std::vector<Item> items) {
  // Consecutive metrics and results are grouped per job attempt; an exit
  // ends a group so everything before it is on the wire first.
  std::map<std::pair<std::string, int>, proto::ReportMetricsRequest> batch;
  std::size_t handled = 0;
  auto flush_batch = [&] {
    for (auto& [key, req] : batch) {
      req.set_node_id(node_id_());
      req.set_job_id(key.first);
      req.set_attempt(key.second);
      (void)Deliver(
          [&](std::chrono::milliseconds timeout) {
            return sink_->ReportMetrics(req, timeout);
          },
          "report " + std::to_string(req.metrics_size()) + " metrics and " +
              std::to_string(req.results_size()) +
              " results of job " + key.first + " (dropped)");
    }
    batch.clear();
    std::lock_guard<std::mutex> lock(mu_);
    sent_ += handled;
    handled = 0;
  };
  for (Item& it : items) {
    auto& req = batch[{it.job_id, it.attempt}];
    switch (it.kind) {
      case Item::Kind::kStep:
        *req.add_metrics() = std::move(it.step);
        ++handled;
        break;
      case Item::Kind::kResult:
        *req.add_results() = std::move(it.result);
        ++handled;
        break;
      case Item::Kind::kExit:
        if (req.metrics_size() == 0 && req.results_size() == 0) {
          batch.erase({it.job_id, it.attempt});
        }
        flush_batch();
        SendExit(it);
        ++handled;
        break;
    }
  }
  flush_batch();
}

void MetricsReporter::SendExit(const Item& item) {
  (void)Deliver(
      [&](std::chrono::milliseconds timeout) {
        return sink_->ReportWorkerExit(node_id_(), item.job_id, item.attempt,
                                       item.exit, timeout);
      },
      "report the exit of rank " + std::to_string(item.exit.rank()) +
          " of job " + item.job_id);
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = undelivered_exits_.begin(); it != undelivered_exits_.end();
       ++it) {
    if (it->job_id == item.job_id && it->attempt == item.attempt &&
        it->rank == item.exit.rank()) {
      undelivered_exits_.erase(it);
      break;
    }
  }
}

bool MetricsReporter::Deliver(
    const std::function<Status(std::chrono::milliseconds)>& call,
    const std::string& what) {
  const auto give_up_at = Clock::now() + options_.retry_for;
  auto backoff = std::chrono::milliseconds(50);
  bool warned_waiting = false;
  while (true) {
    const std::chrono::milliseconds timeout = NextCallTimeout();
    if (timeout.count() <= 0) {
      Warn("could not " + what +
           ": the agent is stopping and the coordinator did not answer");
      return false;
    }
    Status s = call(timeout);
    if (s.ok()) {
      if (warned_waiting) Warn("the coordinator answers again");
      return true;
    }
    const bool transient = s.code() == StatusCode::kUnavailable ||
                           s.code() == StatusCode::kDeadlineExceeded;
    if (!transient || Clock::now() + backoff >= give_up_at) {
      Warn("could not " + what + ": " + s.message());
      return false;
    }
    if (!warned_waiting) {
      Warn("the coordinator does not answer (" + s.message() +
           "); keeping the workers' reports and retrying");
      warned_waiting = true;
    }
    // Retry pacing while the coordinator is unreachable, bounded above;
    // Stop() wakes it so the stop budget is checked at once.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace dstrain::agent
