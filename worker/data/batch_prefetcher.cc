#include "worker/data/batch_prefetcher.h"

#include <chrono>
#include <cstdlib>
#include <utility>

namespace dstrain::data {

BatchPrefetcher::BatchPrefetcher(TokenSource& source, WindowSampler sampler,
                                 BatchLayout layout, int seq_len,
                                 std::int64_t first_step, std::int64_t end_step,
                                 int depth)
    : source_(source),
      sampler_(std::move(sampler)),
      layout_(layout),
      seq_len_(seq_len),
      end_step_(end_step),
      depth_(depth),
      produce_step_(first_step),
      remaining_(end_step > first_step
                     ? (end_step - first_step) * layout.grad_accum
                     : 0) {
  if (depth_ > 0 && produce_step_ < end_step_) {
    thread_ = std::thread([this] { Run(); });
  }
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  has_room_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BatchPrefetcher::Fill(MicroBatch& mb) {
  const std::size_t row = static_cast<std::size_t>(seq_len_) + 1;
  mb.tokens.resize(row * static_cast<std::size_t>(layout_.micro_batch));
  mb.samples.resize(static_cast<std::size_t>(layout_.micro_batch));
  const std::int64_t n = sampler_.windows_per_epoch();
  for (int i = 0; i < layout_.micro_batch; ++i) {
    const std::int64_t g = layout_.GlobalIndex(mb.step, mb.micro, i);
    const std::int64_t group = sampler_.GroupOf(g);
    if (group != hinted_group_) {
      // Entering a group: ask for its blocks and the next group's at once,
      // so the storage has many reads in flight before they are needed.
      hinted_group_ = group;
      std::int64_t next = 0;
      for (const auto& [b, n] : sampler_.GroupSpans(g, &next)) {
        source_.WillNeed(b, n);
      }
      std::int64_t after = 0;
      for (const auto& [b, n] : sampler_.GroupSpans(next, &after)) {
        source_.WillNeed(b, n);
      }
      sampler_.GroupOf(g);  // back to g's epoch for the reads below
    }
    mb.samples[static_cast<std::size_t>(i)] = g / n * n + sampler_.WindowOf(g);
    mb.status = source_.Read(sampler_.Offset(g), static_cast<std::int64_t>(row),
                             mb.tokens.data() + row * i);
    if (!mb.status.ok()) return;
  }
}

void BatchPrefetcher::Run() {
  while (produce_step_ < end_step_) {
    std::vector<std::int64_t> buf;
    {
      std::unique_lock<std::mutex> lock(mu_);
      producer_parked_ = true;
      has_room_.wait(lock, [this] {
        return stop_ || ready_.size() < static_cast<std::size_t>(depth_);
      });
      producer_parked_ = false;
      if (stop_) return;
      if (!spare_.empty()) {
        buf = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    MicroBatch mb;
    mb.step = produce_step_;
    mb.micro = produce_micro_;
    mb.tokens = std::move(buf);
    Fill(mb);
    const bool failed = !mb.status.ok();
    if (++produce_micro_ == layout_.grad_accum) {
      produce_micro_ = 0;
      ++produce_step_;
    }
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(mb));
      ready_count_.store(ready_.size(), std::memory_order_release);
      wake = consumer_parked_;
    }
    if (wake) has_batch_.notify_one();
    if (failed) return;  // the consumer stops at this batch
  }
}

MicroBatch BatchPrefetcher::Next() {
  if (remaining_ == 0) std::abort();  // past end_step: a caller bug
  --remaining_;
  if (depth_ == 0) {
    MicroBatch mb;
    mb.step = produce_step_;
    mb.micro = produce_micro_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!spare_.empty()) {
        mb.tokens = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    Fill(mb);
    if (++produce_micro_ == layout_.grad_accum) {
      produce_micro_ = 0;
      ++produce_step_;
    }
    return mb;
  }
  // Poll before parking: the batch is usually microseconds away.
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::microseconds(300);
  while (ready_count_.load(std::memory_order_acquire) == 0 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  std::unique_lock<std::mutex> lock(mu_);
  consumer_parked_ = true;
  has_batch_.wait(lock, [this] { return !ready_.empty(); });
  consumer_parked_ = false;
  MicroBatch mb = std::move(ready_.front());
  ready_.pop_front();
  ready_count_.store(ready_.size(), std::memory_order_release);
  const bool wake = producer_parked_;
  lock.unlock();
  if (wake) has_room_.notify_one();
  return mb;
}

void BatchPrefetcher::Recycle(std::vector<std::int64_t> tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_.size() < static_cast<std::size_t>(depth_) + 1) {
    spare_.push_back(std::move(tokens));
  }
}

}  // namespace dstrain::data
