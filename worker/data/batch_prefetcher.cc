#include "worker/data/batch_prefetcher.h"

#include <cstdlib>
#include <utility>

namespace dstrain::data {

BatchPrefetcher::BatchPrefetcher(std::span<const std::uint8_t> data,
                                 WindowSampler sampler, BatchLayout layout,
                                 int seq_len, std::int64_t first_step,
                                 std::int64_t end_step, int depth)
    : data_(data),
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
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BatchPrefetcher::Fill(std::int64_t step, int micro,
                           std::vector<std::int64_t>& out) {
  const std::size_t row = static_cast<std::size_t>(seq_len_) + 1;
  out.resize(row * static_cast<std::size_t>(layout_.micro_batch));
  std::int64_t* dst = out.data();
  for (int i = 0; i < layout_.micro_batch; ++i) {
    const std::int64_t offset =
        sampler_.Offset(layout_.GlobalIndex(step, micro, i));
    const std::uint8_t* src = data_.data() + offset;
    for (std::size_t k = 0; k < row; ++k) *dst++ = src[k];
  }
}

void BatchPrefetcher::Run() {
  while (produce_step_ < end_step_) {
    std::vector<std::int64_t> buf;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] {
        return stop_ || ready_.size() < static_cast<std::size_t>(depth_);
      });
      if (stop_) return;
      if (!spare_.empty()) {
        buf = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    MicroBatch mb;
    mb.step = produce_step_;
    mb.micro = produce_micro_;
    Fill(mb.step, mb.micro, buf);
    mb.tokens = std::move(buf);
    if (++produce_micro_ == layout_.grad_accum) {
      produce_micro_ = 0;
      ++produce_step_;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ready_.push_back(std::move(mb));
    }
    cv_.notify_all();
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
    Fill(mb.step, mb.micro, mb.tokens);
    if (++produce_micro_ == layout_.grad_accum) {
      produce_micro_ = 0;
      ++produce_step_;
    }
    return mb;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !ready_.empty(); });
  MicroBatch mb = std::move(ready_.front());
  ready_.pop_front();
  lock.unlock();
  cv_.notify_all();
  return mb;
}

void BatchPrefetcher::Recycle(std::vector<std::int64_t> tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  if (spare_.size() < static_cast<std::size_t>(depth_) + 1) {
    spare_.push_back(std::move(tokens));
  }
}

}  // namespace dstrain::data
