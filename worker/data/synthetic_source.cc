#include "worker/data/synthetic_source.h"

namespace dstrain::data {

Status SyntheticSource::Read(std::int64_t begin, std::int64_t count,
                             std::int64_t* out) {
  if (begin < 0 || count < 0 || begin + count > size_) {
    return InvalidArgument("read past the end of the synthetic data");
  }
  for (std::int64_t i = 0; i < count; ++i) {
    // SplitMix64 of (seed, position).
    std::uint64_t x = seed_ ^ static_cast<std::uint64_t>(begin + i);
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    x ^= x >> 31;
    out[i] = static_cast<std::int64_t>(x % static_cast<std::uint64_t>(vocab_));
  }
  return Status::Ok();
}

}  // namespace dstrain::data
