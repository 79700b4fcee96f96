#include "worker/data/block_cache.h"

#include <algorithm>

namespace dstrain::data {

BlockCache::BlockCache(std::unique_ptr<TokenSource> inner,
                       std::int64_t block_tokens, int capacity, int readers)
    : inner_(std::move(inner)),
      capacity_(static_cast<std::size_t>(std::max(1, capacity))) {
  const std::int64_t unit = std::max<std::int64_t>(1, inner_->preferred_read());
  block_ = std::max<std::int64_t>(1, (block_tokens + unit - 1) / unit) * unit;
  if (!inner_->concurrent_reads()) readers = 0;
  for (int i = 0; i < readers; ++i) {
    readers_.emplace_back([this] { RunReader(); });
  }
}

BlockCache::~BlockCache() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  for (std::thread& t : readers_) t.join();
}

bool BlockCache::MakeRoom(bool for_hint) {
  while (blocks_.size() >= capacity_) {
    auto victim = lru_.end();
    for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) {
      const Entry& e = blocks_.at(*it);
      const bool loaded = e.state == State::kReady || e.state == State::kFailed;
      // A hint never drops a block queued ahead and not yet asked for:
      // that is how hints would undo each other when the cache is small.
      if (loaded && e.pins == 0 && (e.asked || !for_hint)) {
        victim = std::prev(it.base());
        break;
      }
    }
    if (victim == lru_.end()) return false;
    auto e = blocks_.find(*victim);
    if (e->second.tokens.capacity() > 0) {
      spare_.push_back(std::move(e->second.tokens));
    }
    blocks_.erase(e);
    lru_.erase(victim);
  }
  return true;
}

BlockCache::Entry& BlockCache::Insert(std::int64_t index, State state) {
  lru_.push_front(index);
  Entry& e = blocks_[index];
  e.state = state;
  e.at = lru_.begin();
  return e;
}

void BlockCache::Load(std::int64_t index, Entry& e,
                      std::unique_lock<std::mutex>& lock) {
  std::vector<std::int32_t> tokens;
  if (!spare_.empty()) {
    tokens = std::move(spare_.back());
    spare_.pop_back();
  }
  lock.unlock();
  const std::int64_t begin = index * block_;
  const std::int64_t n = std::min(block_, inner_->size() - begin);
  tokens.resize(static_cast<std::size_t>(n));
  Status s = inner_->ReadIds(begin, n, tokens.data());
  ++loads_;
  lock.lock();
  // The entry cannot have gone: a kLoading entry is never dropped.
  e.tokens = std::move(tokens);
  e.status = std::move(s);
  e.state = e.status.ok() ? State::kReady : State::kFailed;
  loaded_.notify_all();
}

StatusOr<BlockCache::Entry*> BlockCache::Pin(std::int64_t index) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = blocks_.find(index);
  Entry* e = nullptr;
  if (it == blocks_.end()) {
    MakeRoom(false);  // over capacity for a moment if everything is busy
    e = &Insert(index, State::kLoading);
    Load(index, *e, lock);
  } else {
    e = &it->second;
    lru_.splice(lru_.begin(), lru_, e->at);
    if (e->state == State::kQueued) {
      // No reader has started it: reading it here is sooner than waiting.
      e->state = State::kLoading;
      Load(index, *e, lock);
    } else if (e->state == State::kLoading) {
      loaded_.wait(lock, [e] { return e->state != State::kLoading; });
    }
  }
  e->asked = true;
  if (e->state == State::kFailed) return e->status;
  ++e->pins;
  return e;
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
    DSTRAIN_ASSIGN_OR_RETURN(Entry * e, Pin(index));
    // Pinned: the entry and its tokens stay while we copy unlocked.
    const std::int64_t local = begin - index * block_;
    const std::int64_t n =
        std::min(count, static_cast<std::int64_t>(e->tokens.size()) - local);
    std::copy_n(e->tokens.data() + local, n, out);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --e->pins;
    }
    out += n;
    begin += n;
    count -= n;
  }
  return Status::Ok();
}

void BlockCache::WillNeed(std::int64_t begin, std::int64_t count) {
  if (readers_.empty()) {
    inner_->WillNeed(begin, count);
    return;
  }
  begin = std::max<std::int64_t>(0, begin);
  count = std::min(count, size() - begin);
  if (count <= 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bool queued = false;
    for (std::int64_t b = begin / block_; b <= (begin + count - 1) / block_;
         ++b) {
      auto it = blocks_.find(b);
      if (it != blocks_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.at);
        continue;
      }
      if (!MakeRoom(true)) break;  // full of blocks still to be asked for
      Insert(b, State::kQueued);
      queue_.push_back(b);
      queued = true;
    }
    if (!queued) return;  // all there, or no room
    // The source hears it too, on a reader's thread (asking the kernel to
    // read ahead can wait for the device's queue): a file source has the
    // whole range read at once, deeper than the readers' requests.
    advice_.emplace_back(begin, count);
  }
  work_.notify_all();
}

void BlockCache::RunReader() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock,
               [this] { return stop_ || !queue_.empty() || !advice_.empty(); });
    if (stop_) return;
    if (!advice_.empty()) {
      const auto [begin, count] = advice_.front();
      advice_.pop_front();
      lock.unlock();
      inner_->WillNeed(begin, count);
      lock.lock();
      continue;
    }
    const std::int64_t index = queue_.front();
    queue_.pop_front();
    auto it = blocks_.find(index);
    // Gone or taken by a Read() that could not wait: nothing to do.
    if (it == blocks_.end() || it->second.state != State::kQueued) continue;
    it->second.state = State::kLoading;
    Load(index, it->second, lock);
  }
}

}  // namespace dstrain::data
