#include "worker/data/sampler.h"

#include <algorithm>
#include <string>
#include <utility>

namespace dstrain::data {
namespace {

// SplitMix64's finaliser: spreads (seed, epoch) into independent seeds.
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::uint64_t EpochSeed(std::uint64_t seed, std::int64_t epoch) {
  return Mix(seed ^ Mix(static_cast<std::uint64_t>(epoch)));
}

}  // namespace

std::uint64_t UniformBelow(std::uint64_t bound, std::mt19937_64& rng) {
  // 2^64 mod bound: raw values below it would over-represent small results.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

std::vector<std::uint32_t> Permutation(std::uint32_t n, std::uint64_t seed) {
  std::vector<std::uint32_t> p(n);
  for (std::uint32_t i = 0; i < n; ++i) p[i] = i;
  std::mt19937_64 rng(seed);
  for (std::uint32_t i = n; i > 1; --i) {
    const auto j = static_cast<std::uint32_t>(UniformBelow(i, rng));
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

StatusOr<WindowSampler> WindowSampler::Create(std::int64_t num_tokens,
                                              std::int64_t window,
                                              std::uint64_t seed) {
  SamplerOptions o;
  o.window = window;
  o.seed = seed;
  return Create(num_tokens, o);
}

StatusOr<WindowSampler> WindowSampler::Create(std::int64_t num_tokens,
                                              const SamplerOptions& o) {
  if (o.window <= 0) {
    return InvalidArgument("sampler window must be positive, got " +
                           std::to_string(o.window));
  }
  if (o.block_tokens <= 0 || o.group_blocks <= 0) {
    return InvalidArgument("shuffle blocks and groups must be positive");
  }
  if (o.row_length > 0 && o.row_length < o.window) {
    return InvalidArgument("samples of " + std::to_string(o.row_length) +
                           " tokens are shorter than one window of " +
                           std::to_string(o.window) + " (seq_len + 1)");
  }
  if (num_tokens < o.window ||
      (o.row_length > 0 && num_tokens < o.row_length)) {
    return InvalidArgument("the data has " + std::to_string(num_tokens) +
                           " tokens, fewer than one window of " +
                           std::to_string(o.window) + " (seq_len + 1)");
  }
  const std::int64_t stride = o.row_length > 0 ? o.row_length : o.window;
  if (num_tokens / stride > std::int64_t{0xFFFFFFFF}) {
    return InvalidArgument("the data has more than 2^32 windows");
  }
  return WindowSampler(num_tokens, o);
}

WindowSampler::WindowSampler(std::int64_t num_tokens, const SamplerOptions& o)
    : o_(o), num_tokens_(num_tokens) {
  if (o_.row_length > 0) {
    stride_ = o_.row_length;
    windows_ = num_tokens_ / stride_;
    shift_range_ = 1;
  } else {
    stride_ = o_.window;
    // One window fewer than fit keeps at least `window` tokens of slack,
    // so every shift in [0, window) is possible and each epoch has the
    // same count.
    const std::int64_t fit = num_tokens_ / stride_;
    windows_ = fit >= 2 ? fit - 1 : fit;
    const std::int64_t slack = num_tokens_ - windows_ * stride_;
    shift_range_ = slack + 1 < stride_ ? slack + 1 : stride_;
  }
  per_block_ = std::max<std::int64_t>(1, o_.block_tokens / stride_);
  blocks_ = (windows_ + per_block_ - 1) / per_block_;
}

std::int64_t WindowSampler::EpochShift(std::int64_t epoch) const {
  return static_cast<std::int64_t>(
      Mix(EpochSeed(o_.seed, epoch) ^ 0x5348494654ULL) %
      static_cast<std::uint64_t>(shift_range_));
}

void WindowSampler::EnterEpoch(std::int64_t epoch) {
  const std::uint64_t es = EpochSeed(o_.seed, epoch);
  block_order_ = Permutation(static_cast<std::uint32_t>(blocks_),
                             Mix(es ^ 0x424C4F434BULL));
  group_start_.clear();
  std::int64_t pos = 0;
  for (std::int64_t b = 0; b < blocks_; ++b) {
    if (b % o_.group_blocks == 0) group_start_.push_back(pos);
    const std::int64_t first = std::int64_t{block_order_[b]} * per_block_;
    pos += std::min(per_block_, windows_ - first);
  }
  group_start_.push_back(pos);
  cached_epoch_ = epoch;
  cached_group_ = -1;
}

void WindowSampler::EnterGroup(std::int64_t group) {
  std::vector<std::uint32_t> windows;
  const std::int64_t end =
      std::min<std::int64_t>(blocks_, (group + 1) * o_.group_blocks);
  for (std::int64_t b = group * o_.group_blocks; b < end; ++b) {
    const std::int64_t first = std::int64_t{block_order_[b]} * per_block_;
    const std::int64_t last = std::min(windows_, first + per_block_);
    for (std::int64_t w = first; w < last; ++w) {
      windows.push_back(static_cast<std::uint32_t>(w));
    }
  }
  // A single block is the whole permutation, seeded as it always was
  // before blocks: small corpora sample exactly as they did.
  const std::uint64_t gs =
      blocks_ == 1 ? EpochSeed(o_.seed, cached_epoch_)
                   : Mix(EpochSeed(o_.seed, cached_epoch_) ^
                         Mix(static_cast<std::uint64_t>(group) + 1));
  const std::vector<std::uint32_t> perm =
      Permutation(static_cast<std::uint32_t>(windows.size()), gs);
  group_windows_.resize(windows.size());
  for (std::size_t i = 0; i < windows.size(); ++i) {
    group_windows_[i] = windows[perm[i]];
  }
  cached_group_ = group;
}

std::int64_t WindowSampler::WindowOf(std::int64_t g) {
  const std::int64_t epoch = g / windows_;
  const std::int64_t pos = g % windows_;
  if (epoch != cached_epoch_) EnterEpoch(epoch);
  const auto it =
      std::upper_bound(group_start_.begin(), group_start_.end(), pos);
  const std::int64_t group = std::distance(group_start_.begin(), it) - 1;
  if (group != cached_group_) EnterGroup(group);
  return group_windows_[static_cast<std::size_t>(
      pos - group_start_[static_cast<std::size_t>(group)])];
}

std::int64_t WindowSampler::GroupOf(std::int64_t g) {
  const std::int64_t epoch = g / windows_;
  if (epoch != cached_epoch_) EnterEpoch(epoch);
  const auto it =
      std::upper_bound(group_start_.begin(), group_start_.end(), g % windows_);
  const std::int64_t groups =
      static_cast<std::int64_t>(group_start_.size()) - 1;
  return epoch * groups + (std::distance(group_start_.begin(), it) - 1);
}

std::vector<std::pair<std::int64_t, std::int64_t>> WindowSampler::GroupSpans(
    std::int64_t g, std::int64_t* next_group_first) {
  const std::int64_t epoch = g / windows_;
  if (epoch != cached_epoch_) EnterEpoch(epoch);
  const auto it =
      std::upper_bound(group_start_.begin(), group_start_.end(), g % windows_);
  const std::int64_t group = std::distance(group_start_.begin(), it) - 1;
  *next_group_first = epoch * windows_ + *it;  // the next epoch's start
  const std::int64_t shift = EpochShift(epoch);
  std::vector<std::pair<std::int64_t, std::int64_t>> spans;
  const std::int64_t end =
      std::min<std::int64_t>(blocks_, (group + 1) * o_.group_blocks);
  for (std::int64_t b = group * o_.group_blocks; b < end; ++b) {
    const std::int64_t first = std::int64_t{block_order_[b]} * per_block_;
    const std::int64_t last = std::min(windows_, first + per_block_);
    spans.emplace_back(shift + first * stride_,
                       (last - first - 1) * stride_ + o_.window);
  }
  return spans;
}

std::int64_t WindowSampler::Offset(std::int64_t g) {
  const std::int64_t w = WindowOf(g);
  return EpochShift(g / windows_) + w * stride_;
}

}  // namespace dstrain::data
