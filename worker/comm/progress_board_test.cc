#include "worker/comm/progress_board.h"

#include <gtest/gtest.h>

#include <atomic>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using std::chrono::milliseconds;

// Counts writes, so the tests see when the board touches the store.
class CountingStore : public rendezvous::InMemoryKvStore {
 public:
  Status Set(const std::string& key, const std::string& value) override {
    ++sets;
    return InMemoryKvStore::Set(key, value);
  }
  std::atomic<int> sets{0};
};

// Polls the store until `key` holds `value` or 10 s pass.
bool WaitForEntry(rendezvous::KeyValueStore& store, const std::string& key,
                  const std::string& value) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (store.Check({key}).value() &&
        store.Get(key, milliseconds(100)).value() == value) {
      return true;
    }
    std::this_thread::yield();
  }
  return false;
}

TEST(ProgressBoardTest, RanksBehindAreAbsentOrBelowTheSequence) {
  EXPECT_EQ(RanksBehind({5, 4, std::nullopt, 6}, 5), (std::vector<int>{1, 2}));
  EXPECT_TRUE(RanksBehind({5, 5}, 5).empty());
}

TEST(ProgressBoardTest, NamesRanksThatNeverStartedTheCollective) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  StoreProgressBoardOptions opts;
  opts.publish_interval = milliseconds(20);
  StoreProgressBoard r0(store, "g", 0, 3, opts);
  StoreProgressBoard r1(store, "g", 1, 3, opts);
  // Rank 2 has no board at all: it never published.
  r1.Started(4);
  r0.Started(5);
  ASSERT_TRUE(WaitForEntry(*store, StoreProgressBoard::Key("g", 1), "4"));
  auto missing = r0.MissingRanks(5);
  ASSERT_THAT(missing, IsOk()) << missing.status().ToString();
  EXPECT_EQ(*missing, (std::vector<int>{1, 2}));
  // Rank 1 reads rank 0's entry too (flushed by rank 0's MissingRanks).
  auto from_r1 = r1.MissingRanks(4);
  ASSERT_THAT(from_r1, IsOk());
  EXPECT_EQ(*from_r1, (std::vector<int>{2}));
}

TEST(ProgressBoardTest, StartedNeverTouchesTheStoreAndUnchangedIsNotRewritten) {
  auto store = std::make_shared<CountingStore>();
  StoreProgressBoardOptions opts;
  opts.publish_interval = std::chrono::hours(1);  // the thread never ticks
  StoreProgressBoard board(store, "g", 0, 2, opts);
  for (int seq = 1; seq <= 1000; ++seq) board.Started(seq);
  EXPECT_EQ(store->sets.load(), 0);
  // An older collective: no waiting for fresh entries. The call flushes
  // this rank's entry once.
  ASSERT_THAT(board.MissingRanks(999), IsOk());
  EXPECT_EQ(store->sets.load(), 1);
  ASSERT_THAT(board.MissingRanks(999), IsOk());
  EXPECT_EQ(store->sets.load(), 1);
  EXPECT_EQ(
      store->Get(StoreProgressBoard::Key("g", 0), milliseconds(0)).value(),
      "1000");
}

TEST(ProgressBoardTest, ALoneRankMissesNobody) {
  auto store = std::make_shared<CountingStore>();
  StoreProgressBoard board(store, "solo", 0, 1);
  board.Started(1);
  auto missing = board.MissingRanks(1);
  ASSERT_THAT(missing, IsOk());
  EXPECT_TRUE(missing->empty());
  EXPECT_EQ(store->sets.load(), 0);
}

TEST(ProgressBoardTest, AGarbledEntryIsAnError) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  ASSERT_THAT(store->Set(StoreProgressBoard::Key("g", 1), "x"), IsOk());
  StoreProgressBoard board(store, "g", 0, 2);
  auto missing = board.MissingRanks(0);
  ASSERT_THAT(missing, Not(IsOk()));
  EXPECT_NE(missing.status().message().find("g/progress/1"), std::string::npos);
}

}  // namespace
}  // namespace dstrain::comm
