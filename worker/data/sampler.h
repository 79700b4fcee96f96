#pragma once
// Deterministic, rank-disjoint sampling of fixed-length windows from a byte
// stream, with the semantics of torch's DistributedSampler:
//
// - An epoch is a permutation of `windows_per_epoch()` non-overlapping
//   windows of `window` bytes. Both the permutation and the byte offset of
//   the first window (the shift) derive from (seed, epoch) alone, so every
//   rank computes the same epochs without talking to the others.
// - Samples have a global index g = step * global_batch + i. Epoch g / n,
//   position g % n (n = windows per epoch). The global index is the data
//   position a checkpoint records; it does not depend on the world size, so
//   the global batch of step s is the same for W = 1, 2, 4...
// - Rank r takes the r-th contiguous share of each step's global batch
//   (BatchLayout::GlobalIndex), split further into grad_accum micro-batches.
//
// The permutation is a Fisher-Yates shuffle over std::mt19937_64's raw
// output with rejection sampling: both are fully specified by the standard,
// unlike std::shuffle and std::uniform_int_distribution, so results are
// identical across standard libraries. No torch in here.

#include <cstdint>
#include <random>
#include <vector>

#include "common/status.h"

namespace dstrain::data {

// How one optimizer step's global batch is split over ranks and micro-steps.
struct BatchLayout {
  int world_size = 1;
  int rank = 0;
  int micro_batch = 1;  // sequences per rank per micro-step
  int grad_accum = 1;   // micro-steps per optimizer step

  std::int64_t global_batch() const {
    return std::int64_t{world_size} * micro_batch * grad_accum;
  }
  // Global sample index of sequence `i` of micro-step `micro` of `step`
  // (all 0-based) on this rank.
  std::int64_t GlobalIndex(std::int64_t step, int micro, int i) const {
    return step * global_batch() +
           std::int64_t{rank} * micro_batch * grad_accum +
           std::int64_t{micro} * micro_batch + i;
  }
};

// The unbiased uniform integer in [0, bound) drawn from `rng`'s raw 64-bit
// output by rejection (bound > 0). Exposed for tests.
std::uint64_t UniformBelow(std::uint64_t bound, std::mt19937_64& rng);

// A Fisher-Yates permutation of 0..n-1 seeded with `seed`. Exposed for tests.
std::vector<std::uint32_t> Permutation(std::uint32_t n, std::uint64_t seed);

class WindowSampler {
 public:
  // Windows of `window` bytes over a stream of `num_bytes` bytes. Fails
  // when the stream is shorter than one window.
  static StatusOr<WindowSampler> Create(std::int64_t num_bytes,
                                        std::int64_t window,
                                        std::uint64_t seed);

  std::int64_t windows_per_epoch() const { return windows_; }
  std::int64_t window() const { return window_; }

  // Byte offset of the first window of `epoch` (in [0, window)).
  std::int64_t EpochShift(std::int64_t epoch) const;

  // Byte offset of the window global sample `g` reads. Caches the current
  // epoch's permutation: one instance per thread.
  std::int64_t Offset(std::int64_t g);

 private:
  WindowSampler(std::int64_t num_bytes, std::int64_t window,
                std::uint64_t seed);

  std::int64_t num_bytes_;
  std::int64_t window_;
  std::uint64_t seed_;
  std::int64_t windows_;      // per epoch
  std::int64_t shift_range_;  // shifts in [0, shift_range_)
  std::int64_t cached_epoch_ = -1;
  std::vector<std::uint32_t> perm_;  // of cached_epoch_
};

}  // namespace dstrain::data
