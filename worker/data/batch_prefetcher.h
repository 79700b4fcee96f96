#pragma once
// Prepares a rank's micro-batches ahead of training on a background thread.
//
// Micro-batches come out in (step, micro) order from `first_step` up to (not
// including) `end_step`; each holds `micro_batch` windows of `seq_len + 1`
// token ids (widened to int64, row-major): inputs are columns [0,
// seq_len), targets columns [1, seq_len]. Which windows is decided by the
// WindowSampler and BatchLayout (see sampler.h); the tokens come from the
// source (token_source.h). A read that fails gives a micro-batch whose
// status says why (naming the file and offset); the prefetcher reads
// nothing after it.
//
// `depth` batches are kept ready; depth 0 prepares each batch inside Next()
// on the caller's thread. A Next() that finds none ready polls for a few
// hundred microseconds before it sleeps: a reader that keeps pace with a
// fast consumer would otherwise pay a sleep and a wake-up per batch. Next() and
// Recycle() are for one consumer thread; the source must outlive the
// prefetcher. The destructor stops and joins the thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "worker/data/sampler.h"
#include "worker/data/token_source.h"

namespace dstrain::data {

struct MicroBatch {
  std::int64_t step = 0;
  int micro = 0;
  std::vector<std::int64_t> tokens;  // micro_batch * (seq_len + 1)
  // Which window of the epoch each row is (WindowSampler::WindowOf), with
  // the epoch: epoch * windows_per_epoch + window, a sample's identity.
  std::vector<std::int64_t> samples;
  Status status;  // not OK: the read failed; tokens are not valid
};

class BatchPrefetcher {
 public:
  BatchPrefetcher(TokenSource& source, WindowSampler sampler,
                  BatchLayout layout, int seq_len, std::int64_t first_step,
                  std::int64_t end_step, int depth);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next micro-batch; blocks until it is ready. Calling it after the
  // last one (end_step) is a programming error and aborts.
  MicroBatch Next();

  // Hands a used token buffer back so its memory is reused.
  void Recycle(std::vector<std::int64_t> tokens);

 private:
  void Fill(MicroBatch& mb);
  void Run();

  TokenSource& source_;
  WindowSampler sampler_;  // used only by the producer (thread or Next)
  const BatchLayout layout_;
  const int seq_len_;
  const std::int64_t end_step_;
  const int depth_;
  std::int64_t hinted_group_ = -1;  // producer-only: the group hinted last

  // Next (step, micro) to produce; producer-only.
  std::int64_t produce_step_;
  int produce_micro_ = 0;
  std::int64_t remaining_;  // micro-batches Next() may still hand out

  std::mutex mu_;
  std::condition_variable has_batch_;             // the consumer parks here
  std::condition_variable has_room_;              // the producer parks here
  std::deque<MicroBatch> ready_;                  // guarded by mu_
  std::vector<std::vector<std::int64_t>> spare_;  // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
  // Who is parked, so the other side wakes it only then (a wake-up is a
  // system call, and on a VM an interrupt to another CPU). Guarded by mu_.
  bool consumer_parked_ = false;
  bool producer_parked_ = false;
  // ready_.size(), readable without the lock while the consumer polls.
  std::atomic<std::size_t> ready_count_{0};
  std::thread thread_;
};

}  // namespace dstrain::data
