#pragma once
// `data.type: synthetic`: `size` tokens generated from (seed, position)
// alone, uniform over the vocabulary — for benchmarks that must not wait
// for storage, and for tests. Thread-compatible.

#include "worker/data/token_source.h"

namespace dstrain::data {

class SyntheticSource : public TokenSource {
 public:
  SyntheticSource(std::int64_t size, std::int64_t vocab, std::uint64_t seed)
      : size_(size), vocab_(vocab), seed_(seed) {}

  std::int64_t size() const override { return size_; }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override;
  std::string Locate(std::int64_t position) const override {
    return "synthetic data at token " + std::to_string(position);
  }

 private:
  std::int64_t size_;
  std::int64_t vocab_;
  std::uint64_t seed_;
};

}  // namespace dstrain::data
