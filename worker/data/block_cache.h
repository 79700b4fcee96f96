#pragma once
// A reader in front of a file-backed source: every read is served from
// whole blocks of `block_tokens` (rounded up to the source's preferred
// read, an HDF5 chunk), each read once with one large sequential request
// and kept in a small LRU of `capacity` blocks (as int32: token ids are
// below model.vocab, an int). With the sampler's block
// shuffling (sampler.h) a rank reads each block of its shuffle group once,
// so the storage sees large reads however random the windows.
// Thread-compatible, as the source.

#include <list>
#include <memory>
#include <unordered_map>
#include <vector>

#include "worker/data/token_source.h"

namespace dstrain::data {

class BlockCache : public TokenSource {
 public:
  BlockCache(std::unique_ptr<TokenSource> inner, std::int64_t block_tokens,
             int capacity);

  std::int64_t size() const override { return inner_->size(); }
  std::int64_t row_length() const override { return inner_->row_length(); }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override;
  std::string Locate(std::int64_t position) const override {
    return inner_->Locate(position);
  }
  std::int64_t preferred_read() const override { return block_; }
  void WillNeed(std::int64_t begin, std::int64_t count) override {
    inner_->WillNeed(begin, count);
  }

  std::int64_t block_tokens() const { return block_; }
  // Blocks read from the source so far.
  std::int64_t loads() const { return loads_; }

 private:
  StatusOr<const std::vector<std::int32_t>*> Block(std::int64_t index);

  std::unique_ptr<TokenSource> inner_;
  std::int64_t block_;
  std::size_t capacity_;
  std::list<std::int64_t> lru_;  // most recent first
  struct Entry {
    std::vector<std::int32_t> tokens;
    std::list<std::int64_t>::iterator at;
  };
  std::unordered_map<std::int64_t, Entry> blocks_;
  std::int64_t loads_ = 0;
};

}  // namespace dstrain::data
