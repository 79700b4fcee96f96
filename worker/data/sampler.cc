#include "worker/data/sampler.h"

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

StatusOr<WindowSampler> WindowSampler::Create(std::int64_t num_bytes,
                                              std::int64_t window,
                                              std::uint64_t seed) {
  if (window <= 0) {
    return InvalidArgument("sampler window must be positive, got " +
                           std::to_string(window));
  }
  if (num_bytes < window) {
    return InvalidArgument("the data has " + std::to_string(num_bytes) +
                           " bytes, fewer than one window of " +
                           std::to_string(window) + " (seq_len + 1)");
  }
  if (num_bytes / window > std::int64_t{0xFFFFFFFF}) {
    return InvalidArgument("the data has more than 2^32 windows");
  }
  return WindowSampler(num_bytes, window, seed);
}

WindowSampler::WindowSampler(std::int64_t num_bytes, std::int64_t window,
                             std::uint64_t seed)
    : num_bytes_(num_bytes), window_(window), seed_(seed) {
  // One window fewer than fit keeps at least `window` bytes of slack, so
  // every shift in [0, window) is possible and each epoch has the same count.
  const std::int64_t fit = num_bytes_ / window_;
  windows_ = fit >= 2 ? fit - 1 : fit;
  const std::int64_t slack = num_bytes_ - windows_ * window_;
  shift_range_ = slack + 1 < window_ ? slack + 1 : window_;
}

std::int64_t WindowSampler::EpochShift(std::int64_t epoch) const {
  return static_cast<std::int64_t>(
      Mix(EpochSeed(seed_, epoch) ^ 0x5348494654ULL) %
      static_cast<std::uint64_t>(shift_range_));
}

std::int64_t WindowSampler::Offset(std::int64_t g) {
  const std::int64_t epoch = g / windows_;
  const std::int64_t pos = g % windows_;
  if (epoch != cached_epoch_) {
    perm_ = Permutation(static_cast<std::uint32_t>(windows_),
                        EpochSeed(seed_, epoch));
    cached_epoch_ = epoch;
  }
  return EpochShift(epoch) + std::int64_t{perm_[pos]} * window_;
}

}  // namespace dstrain::data
