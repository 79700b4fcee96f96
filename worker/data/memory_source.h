#pragma once
// Tokens held in memory as a TokenSource: for tests, and for tools that
// build a stream before writing it. Thread-compatible.

#include <algorithm>
#include <vector>

#include "worker/data/token_source.h"

namespace dstrain::data {

class MemorySource : public TokenSource {
 public:
  explicit MemorySource(std::vector<std::int64_t> tokens,
                        std::int64_t row_length = 0)
      : tokens_(std::move(tokens)), row_length_(row_length) {}

  std::int64_t size() const override {
    return static_cast<std::int64_t>(tokens_.size());
  }
  std::int64_t row_length() const override { return row_length_; }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override {
    if (begin < 0 || count < 0 || begin + count > size()) {
      return InvalidArgument("read past the end of the tokens in memory");
    }
    std::copy_n(tokens_.data() + begin, count, out);
    return Status::Ok();
  }
  std::string Locate(std::int64_t position) const override {
    return "memory at token " + std::to_string(position);
  }

 private:
  std::vector<std::int64_t> tokens_;
  std::int64_t row_length_;
};

}  // namespace dstrain::data
