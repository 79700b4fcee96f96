#include "worker/comm/progress_board.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/strings.h"

namespace dstrain::comm {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::vector<int> RanksBehind(
    const std::vector<std::optional<std::int64_t>>& last_started,
    std::int64_t seq) {
  std::vector<int> behind;
  for (int r = 0; r < static_cast<int>(last_started.size()); ++r) {
    if (!last_started[r].has_value() || *last_started[r] < seq) {
      behind.push_back(r);
    }
  }
  return behind;
}

StoreProgressBoard::StoreProgressBoard(
    std::shared_ptr<rendezvous::KeyValueStore> store, std::string prefix,
    int rank, int size, StoreProgressBoardOptions options)
    : store_(std::move(store)),
      prefix_(std::move(prefix)),
      rank_(rank),
      size_(size),
      options_(options) {
  if (size_ > 1) publisher_ = std::thread([this] { PublishLoop(); });
}

StoreProgressBoard::~StoreProgressBoard() {
  {
    std::lock_guard<std::mutex> lock(publish_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (publisher_.joinable()) publisher_.join();
}

std::string StoreProgressBoard::Key(const std::string& prefix, int rank) {
  return prefix + "/progress/" + std::to_string(rank);
}

void StoreProgressBoard::Started(std::int64_t seq) {
  started_at_.store(Clock::now().time_since_epoch().count(),
                    std::memory_order_relaxed);
  started_.store(seq, std::memory_order_release);
}

void StoreProgressBoard::PublishLoop() {
  std::unique_lock<std::mutex> lock(publish_mu_);
  while (!stop_) {
    // A periodic tick, not synchronisation: peers only need a fresh value
    // by the time one of them times out, which is seconds away.
    stop_cv_.wait_for(lock, options_.publish_interval);
    if (stop_) break;
    PublishLocked();
  }
}

void StoreProgressBoard::PublishLocked() {
  const std::int64_t latest = started_.load(std::memory_order_acquire);
  if (latest == published_) return;
  // A failed write is retried on the next tick; the board is advisory.
  if (store_->Set(Key(prefix_, rank_), std::to_string(latest)).ok()) {
    published_ = latest;
  }
}

StatusOr<std::vector<std::optional<std::int64_t>>>
StoreProgressBoard::ReadAll() {
  std::vector<std::optional<std::int64_t>> entries(size_);
  for (int r = 0; r < size_; ++r) {
    if (r == rank_) {
      entries[r] = started_.load(std::memory_order_acquire);
      continue;
    }
    const std::string key = Key(prefix_, r);
    DSTRAIN_ASSIGN_OR_RETURN(bool present, store_->Check({key}));
    if (!present) continue;
    DSTRAIN_ASSIGN_OR_RETURN(std::string value,
                             store_->Get(key, options_.read_timeout));
    const std::optional<std::int64_t> entry = ParseInteger<std::int64_t>(value);
    if (!entry) {
      return Internal("progress board entry " + key + " is not a number: '" +
                      value + "'");
    }
    entries[r] = *entry;
  }
  return entries;
}

StatusOr<std::vector<int>> StoreProgressBoard::MissingRanks(std::int64_t seq) {
  if (size_ == 1) return std::vector<int>{};
  {
    // Peers that fail at the same moment read this rank's entry too.
    std::lock_guard<std::mutex> lock(publish_mu_);
    PublishLocked();
  }
  // A rank that started `seq` publishes it within one interval; when `seq`
  // is the latest collective and it started less than that ago, poll until
  // the entries catch up or the interval (plus slack) has passed.
  Clock::time_point deadline = Clock::now();
  if (seq == started_.load(std::memory_order_acquire)) {
    const Clock::time_point started_at(
        Clock::duration(started_at_.load(std::memory_order_relaxed)));
    deadline = started_at +
               std::min<Clock::duration>(options_.publish_interval,
                                         std::chrono::seconds(5)) +
               std::chrono::milliseconds(250);
  }
  while (true) {
    DSTRAIN_ASSIGN_OR_RETURN(std::vector<std::optional<std::int64_t>> entries,
                             ReadAll());
    std::vector<int> behind = RanksBehind(entries, seq);
    if (behind.empty() || Clock::now() >= deadline) return behind;
    std::unique_lock<std::mutex> lock(publish_mu_);
    stop_cv_.wait_for(lock, std::chrono::milliseconds(50),
                      [this] { return stop_; });
    if (stop_) return behind;
  }
}

}  // namespace dstrain::comm
