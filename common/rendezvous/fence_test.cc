#include "common/rendezvous/fence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/rendezvous/prefix_store.h"
#include "common/testing/status_matchers.h"

namespace dstrain::rendezvous {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

FenceRequest Join(const std::string& name, int world, int rank,
                  std::vector<int> want) {
  FenceRequest r;
  r.name = name;
  r.world = world;
  r.rank = rank;
  r.record = "record of " + std::to_string(rank);
  r.want = std::move(want);
  r.timeout = milliseconds(10000);
  return r;
}

TEST(FenceTest, EveryRankGetsTheRecordsItAsksForOnceAllHaveJoined) {
  auto store = std::make_shared<InMemoryKvStore>();
  PrefixStore scoped(store, "job");
  constexpr int kWorld = 6;
  std::vector<StatusOr<FenceRecords>> got(kWorld, FenceRecords());
  std::vector<std::thread> ranks;
  for (int r = 0; r < kWorld; ++r) {
    ranks.emplace_back([&, r] {
      got[r] = scoped.Fence(Join(
          "boot", kWorld, r, {(r + 1) % kWorld, (r + kWorld - 1) % kWorld}));
    });
  }
  for (std::thread& t : ranks) t.join();
  for (int r = 0; r < kWorld; ++r) {
    ASSERT_THAT(got[r], IsOk());
    EXPECT_EQ(got[r]->size(), 2u);
    EXPECT_EQ(got[r]->at((r + 1) % kWorld),
              "record of " + std::to_string((r + 1) % kWorld));
  }
  // The keys are the documented ones, under the prefix.
  EXPECT_EQ(*store->Get("job/boot/count", milliseconds(0)), "6");
  EXPECT_TRUE(*store->Check({"job/boot/done", "job/boot/r/5"}));
}

TEST(FenceTest, ATimeoutNamesTheRanksThatNeverCame) {
  InMemoryKvStore store;
  constexpr int kWorld = 40;
  // Everyone but ranks 7 and 33 has joined.
  for (int r = 0; r < kWorld; ++r) {
    if (r == 7 || r == 33) continue;
    ASSERT_THAT(store.Set(FenceRecordKey("f", r), "x"), IsOk());
    ASSERT_THAT(store.Add(FenceCountKey("f"), 1), IsOk());
  }
  FenceRequest late = Join("f", kWorld, 0, {});
  late.timeout = milliseconds(50);
  // Rank 0 joins again here: the generic fence counts a second join twice,
  // which is why its count (39) still misses the world.
  EXPECT_THAT(store.Fence(late),
              StatusIs(StatusCode::kDeadlineExceeded,
                       HasSubstr("ranks 7, 33 never arrived")));
}

TEST(FenceTest, ARequestThatCannotBeAFenceIsRefused) {
  InMemoryKvStore store;
  EXPECT_THAT(store.Fence(Join("", 2, 0, {})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(store.Fence(Join("f", 0, 0, {})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("world is 0")));
  EXPECT_THAT(store.Fence(Join("f", 2, 2, {})),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("rank 2")));
  EXPECT_THAT(
      store.Fence(Join("f", 2, 0, {-1})),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("wanted rank -1")));
  EXPECT_EQ(*store.NumKeys(), 0) << "nothing written";
}

}  // namespace
}  // namespace dstrain::rendezvous
