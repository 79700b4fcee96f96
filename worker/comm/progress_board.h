#pragma once
// Who never arrived? Each rank of a communicator publishes "the sequence
// number of the last collective I started" so that, when a collective times
// out, the rank that noticed can name the ranks still behind it (a hang
// report names the rank and the collective).
//
// ProgressBoard is the small interface every backend uses (gloo, mpi, nccl):
// Started() on the hot path costs one atomic store and never touches the
// store; a publisher thread copies the latest value to the store about once
// a publish interval, only when it changed. MissingRanks() is for the error
// path only.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "common/rendezvous/kv_store.h"

namespace dstrain::comm {

class ProgressBoard {
 public:
  virtual ~ProgressBoard() = default;
  // This rank has started collective `seq` (1-based, increasing). Cheap and
  // thread-safe: callable from the thread issuing collectives.
  virtual void Started(std::int64_t seq) = 0;
  // After collective `seq` failed on this rank: the group ranks (ascending)
  // whose last started collective is below `seq` or that never published.
  // Empty when every rank started it. Blocks at most about a publish
  // interval (at most 5 s; waiting for fresh entries) plus the store's
  // read time.
  virtual StatusOr<std::vector<int>> MissingRanks(std::int64_t seq) = 0;
};

// Pure: the ranks whose entry is absent or below `seq`. `last_started[r]` is
// rank r's entry (nullopt: never published).
std::vector<int> RanksBehind(
    const std::vector<std::optional<std::int64_t>>& last_started,
    std::int64_t seq);

struct StoreProgressBoardOptions {
  std::chrono::milliseconds publish_interval{1000};
  // Bound on each store read on the error path.
  std::chrono::milliseconds read_timeout{2000};
};

// The board over a rendezvous::KeyValueStore: rank r's entry is the decimal
// sequence number at Key(prefix, r). One publisher thread per board (none
// when size is 1), stopped by the destructor.
class StoreProgressBoard : public ProgressBoard {
 public:
  StoreProgressBoard(std::shared_ptr<rendezvous::KeyValueStore> store,
                     std::string prefix, int rank, int size,
                     StoreProgressBoardOptions options = {});
  ~StoreProgressBoard() override;
  StoreProgressBoard(const StoreProgressBoard&) = delete;
  StoreProgressBoard& operator=(const StoreProgressBoard&) = delete;

  void Started(std::int64_t seq) override;
  StatusOr<std::vector<int>> MissingRanks(std::int64_t seq) override;

  static std::string Key(const std::string& prefix, int rank);

 private:
  void PublishLoop();
  // Writes the latest value if it changed; needs publish_mu_ held.
  void PublishLocked();
  StatusOr<std::vector<std::optional<std::int64_t>>> ReadAll();

  const std::shared_ptr<rendezvous::KeyValueStore> store_;
  const std::string prefix_;
  const int rank_;
  const int size_;
  const StoreProgressBoardOptions options_;

  std::atomic<std::int64_t> started_{0};
  // steady_clock ticks of the latest Started() call.
  std::atomic<std::int64_t> started_at_{0};

  std::mutex publish_mu_;  // guards published_, stop_; serialises writes
  std::condition_variable stop_cv_;
  std::int64_t published_ = 0;  // 0: nothing published yet
  bool stop_ = false;
  std::thread publisher_;
};

}  // namespace dstrain::comm
