#pragma once
// Deterministic, rank-disjoint sampling of fixed-length windows from a token
// stream, with the semantics of torch's DistributedSampler:
//
// - An epoch is a permutation of `windows_per_epoch()` non-overlapping
//   windows of `window` tokens. Both the permutation and the offset of the
//   first window (the shift) derive from (seed, epoch) alone, so every
//   rank computes the same epochs without talking to the others. A stream
//   of fixed-length rows (row_length > 0: an HDF5 dataset of samples) has
//   one window per row, at the row's start, and no shift.
// - The permutation is shuffled in blocks, so that reads are large: the
//   windows are cut into blocks of `block_tokens / window` (rows: / row
//   length) consecutive windows; an epoch permutes the blocks, and within
//   each group of `group_blocks` consecutive blocks of that order,
//   permutes all their windows. A rank then reads each block of a group once
//   (block_cache.h) while its windows still come from 16 far-apart places of
//   the data at a time. One block (a small corpus) is the full permutation.
// - Samples have a global index g = step * global_batch + i. Epoch g / n,
//   position g % n (n = windows per epoch). The global index is the data
//   position a checkpoint records; it does not depend on the world size, so
//   the global batch of step s is the same for W = 1, 2, 4...
// - Rank r takes the r-th contiguous share of each step's global batch
//   (BatchLayout::GlobalIndex), split further into grad_accum micro-batches.
//
// Permutations are Fisher-Yates shuffles over std::mt19937_64's raw output
// with rejection sampling: both are fully specified by the standard,
// unlike std::shuffle and std::uniform_int_distribution, so results are
// identical across standard libraries. No torch in here.

#include <cstdint>
#include <random>
#include <utility>
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

struct SamplerOptions {
  std::int64_t window = 0;  // tokens per sample: seq_len + 1
  std::uint64_t seed = 0;
  std::int64_t row_length = 0;  // > 0: one window per row of this length
  std::int64_t block_tokens = std::int64_t{1} << 18;
  int group_blocks = 16;
};

class WindowSampler {
 public:
  // Fails when the stream is shorter than one window, a row shorter than a
  // window, or there are more than 2^32 windows.
  static StatusOr<WindowSampler> Create(std::int64_t num_tokens,
                                        const SamplerOptions& options);
  // The defaults' block shuffling.
  static StatusOr<WindowSampler> Create(std::int64_t num_tokens,
                                        std::int64_t window,
                                        std::uint64_t seed);

  std::int64_t windows_per_epoch() const { return windows_; }
  std::int64_t window() const { return o_.window; }
  std::int64_t windows_per_block() const { return per_block_; }

  // Offset of the first window of `epoch` (in [0, window); 0 for rows).
  std::int64_t EpochShift(std::int64_t epoch) const;

  // Which window (0 .. windows_per_epoch - 1) global sample `g` reads, and
  // the token offset of that window. Cache the current epoch's block order
  // and group permutation: one instance per thread.
  std::int64_t WindowOf(std::int64_t g);
  std::int64_t Offset(std::int64_t g);

  // The shuffle group global sample `g` falls in, numbered across epochs,
  // and the token ranges (begin, count) of its blocks: what a rank will
  // read while its samples stay in the group. `next_group_first` gets the
  // global index of the next group's first sample.
  std::int64_t GroupOf(std::int64_t g);
  std::vector<std::pair<std::int64_t, std::int64_t>> GroupSpans(
      std::int64_t g, std::int64_t* next_group_first);

 private:
  WindowSampler(std::int64_t num_tokens, const SamplerOptions& o);
  void EnterEpoch(std::int64_t epoch);
  void EnterGroup(std::int64_t group);

  SamplerOptions o_;
  std::int64_t num_tokens_;
  std::int64_t stride_;       // tokens from one window's start to the next
  std::int64_t windows_;      // per epoch
  std::int64_t shift_range_;  // shifts in [0, shift_range_)
  std::int64_t per_block_;    // windows per block
  std::int64_t blocks_;

  std::int64_t cached_epoch_ = -1;
  std::vector<std::uint32_t> block_order_;  // of cached_epoch_
  std::vector<std::int64_t> group_start_;   // positions; one past the end last
  std::int64_t cached_group_ = -1;
  std::vector<std::uint32_t> group_windows_;  // permuted, of cached_group_
};

}  // namespace dstrain::data
