#pragma once
// A reader in front of a file-backed source: every read is served from
// whole blocks of `block_tokens` (rounded up to the source's preferred
// read, an HDF5 chunk), each read once with one large request and kept in
// an LRU of `capacity` blocks (as int32: token ids are below model.vocab,
// an int). With the sampler's block shuffling (sampler.h) a rank reads
// each block of its shuffle group once, so the storage sees large reads
// however random the windows.
//
// `readers` threads load the blocks WillNeed() names before Read() asks
// for them, several at once, so the storage has that many requests in
// flight and the caller only copies. The hint queues as many blocks as the
// cache holds without dropping one that is queued, being read or not yet
// asked for since it was queued; a block Read() needs that no reader has
// started is read on the caller's thread. With readers the inner source
// is called from several threads at once (concurrent_reads() must be
// true), and a reader passes each hint on to it (a file source has the
// kernel read the range ahead); with none, the source is called only from
// the caller's thread, WillNeed included.
//
// Read() and WillNeed() may be called from any thread. The destructor
// waits for the reads in flight.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "worker/data/token_source.h"

namespace dstrain::data {

class BlockCache : public TokenSource {
 public:
  BlockCache(std::unique_ptr<TokenSource> inner, std::int64_t block_tokens,
             int capacity, int readers = 0);
  ~BlockCache() override;
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  std::int64_t size() const override { return inner_->size(); }
  std::int64_t row_length() const override { return inner_->row_length(); }
  Status Read(std::int64_t begin, std::int64_t count,
              std::int64_t* out) override;
  std::string Locate(std::int64_t position) const override {
    return inner_->Locate(position);
  }
  std::int64_t preferred_read() const override { return block_; }
  bool concurrent_reads() const override { return true; }
  void WillNeed(std::int64_t begin, std::int64_t count) override;

  std::int64_t block_tokens() const { return block_; }
  int readers() const { return static_cast<int>(readers_.size()); }
  // Blocks read from the source so far.
  std::int64_t loads() const { return loads_.load(); }

 private:
  enum class State { kQueued, kLoading, kReady, kFailed };
  struct Entry {
    State state = State::kQueued;
    bool asked = false;  // Read() has used it since it was queued
    int pins = 0;        // Read() calls copying from it now
    std::vector<std::int32_t> tokens;
    Status status;  // kFailed: why
    std::list<std::int64_t>::iterator at;
  };

  // Makes room for one more block by dropping the least recent block that
  // is loaded, not pinned and not waiting to be asked for; false if none.
  bool MakeRoom(bool for_hint);
  Entry& Insert(std::int64_t index, State state);
  // Reads block `index` into `e` (state kLoading, set by the caller) with
  // `lock` released meanwhile.
  void Load(std::int64_t index, Entry& e, std::unique_lock<std::mutex>& lock);
  // Block `index` loaded and pinned, or why it could not be read.
  StatusOr<Entry*> Pin(std::int64_t index);
  void RunReader();

  const std::unique_ptr<TokenSource> inner_;
  std::int64_t block_;
  const std::size_t capacity_;
  std::atomic<std::int64_t> loads_{0};

  std::mutex mu_;
  std::condition_variable loaded_;  // an entry left kLoading
  std::condition_variable work_;    // queue_ gained a block, or stop_
  std::list<std::int64_t> lru_;     // guarded by mu_; most recent first
  std::unordered_map<std::int64_t, Entry> blocks_;  // guarded by mu_
  std::deque<std::int64_t> queue_;                  // guarded by mu_
  // WillNeed ranges for the source, passed on by a reader. Guarded by mu_.
  std::deque<std::pair<std::int64_t, std::int64_t>> advice_;
  std::vector<std::vector<std::int32_t>> spare_;  // guarded by mu_
  bool stop_ = false;                             // guarded by mu_
  std::vector<std::thread> readers_;
};

}  // namespace dstrain::data
