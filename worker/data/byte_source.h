#pragma once
// `data.type: text` as a token stream: each byte of the corpus one token
// (vocabulary 256). Thread-compatible.

#include <memory>

#include "worker/data/text_dataset.h"
#include "worker/data/token_source.h"

namespace dstrain::data {

class ByteSource : public TokenSource {
 public:
  explicit ByteSource(std::unique_ptr<TextDataset> text)
      : text_(std::move(text)) {}

  std::int64_t size() const override {
    return static_cast<std::int64_t>(text_->bytes().size());
  }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override;
  std::string Locate(std::int64_t position) const override;

 private:
  std::unique_ptr<TextDataset> text_;
};

}  // namespace dstrain::data
