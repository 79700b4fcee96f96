#include "worker/data/block_cache.h"

#include <algorithm>

namespace dstrain::data {

BlockCache::BlockCache(std::unique_ptr<TokenSource> inner,
                       std::int64_t block_tokens, int capacity)
    : inner_(std::move(inner)),
      capacity_(static_cast<std::size_t>(std::max(1, capacity))) {
  const std::int64_t unit = std::max<std::int64_t>(1, inner_->preferred_read());
  block_ = std::max<std::int64_t>(1, (block_tokens + unit - 1) / unit) * unit;
}

StatusOr<const std::vector<std::int32_t>*> BlockCache::Block(
    std::int64_t index) {
  auto it = blocks_.find(index);
  if (it != blocks_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.at);
    return &it->second.tokens;
  }
  std::vector<std::int32_t> tokens;
  if (blocks_.size() >= capacity_) {
    // Reuse the least recent block's memory.
    const std::int64_t victim = lru_.back();
    lru_.pop_back();
    tokens = std::move(blocks_[victim].tokens);
    blocks_.erase(victim);
  }
  const std::int64_t begin = index * block_;
  const std::int64_t n = std::min(block_, inner_->size() - begin);
  tokens.resize(static_cast<std::size_t>(n));
  DSTRAIN_RETURN_IF_ERROR(inner_->ReadIds(begin, n, tokens.data()));
  ++loads_;
  lru_.push_front(index);
  Entry& e = blocks_[index];
  e.tokens = std::move(tokens);
  e.at = lru_.begin();
  return &e.tokens;
}

Status BlockCache::Read(std::int64_t begin, std::int64_t count,
                        std::int64_t* out) {
  if (begin < 0 || count < 0 || begin + count > size()) {
    return InvalidArgument("read of " + std::to_string(count) + " tokens at " +
                           std::to_string(begin) +
                           " past the end of the data (" +
                           std::to_string(size()) + " tokens)");
  }
  while (count > 0) {
    const std::int64_t index = begin / block_;
    DSTRAIN_ASSIGN_OR_RETURN(const std::vector<std::int32_t>* b, Block(index));
    const std::int64_t local = begin - index * block_;
    const std::int64_t n =
        std::min(count, static_cast<std::int64_t>(b->size()) - local);
    std::copy_n(b->data() + local, n, out);
    out += n;
    begin += n;
    count -= n;
  }
  return Status::Ok();
}

}  // namespace dstrain::data
