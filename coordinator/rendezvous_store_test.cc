#include "coordinator/rendezvous_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/testing/status_matchers.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;

class RendezvousStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { kv_.OpenJob("j"); }
  RendezvousStore kv_;
};

TEST_F(RendezvousStoreTest, SetGetDeleteNumKeys) {
  ASSERT_THAT(kv_.Set("j", "a", "1"), IsOk());
  ASSERT_THAT(kv_.Set("j", "b", std::string("\0x", 2)), IsOk());
  auto a = kv_.Get("j", "a");
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->value(), "1");
  EXPECT_EQ(kv_.Get("j", "b")->value(), std::string("\0x", 2));
  EXPECT_FALSE(kv_.Get("j", "zz")->has_value());
  EXPECT_EQ(*kv_.NumKeys("j"), 2);
  EXPECT_TRUE(*kv_.Delete("j", "a"));
  EXPECT_FALSE(*kv_.Delete("j", "a"));
  EXPECT_EQ(*kv_.NumKeys("j"), 1);
}

TEST_F(RendezvousStoreTest, AddCountsFromZeroAndRejectsNonIntegers) {
  EXPECT_EQ(*kv_.Add("j", "n", 2), 2);
  EXPECT_EQ(*kv_.Add("j", "n", -5), -3);
  EXPECT_EQ(kv_.Get("j", "n")->value(), "-3");
  ASSERT_THAT(kv_.Set("j", "s", "abc"), IsOk());
  StatusOr<std::int64_t> bad = kv_.Add("j", "s", 1);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("`s`"), std::string::npos);
}

TEST_F(RendezvousStoreTest, CompareSetFollowsC10dSemantics) {
  // Absent + empty expected: set.
  EXPECT_EQ(*kv_.CompareSet("j", "k", "", "v1"), "v1");
  // Present + matching: swap.
  EXPECT_EQ(*kv_.CompareSet("j", "k", "v1", "v2"), "v2");
  // Present + not matching: unchanged, current value back.
  EXPECT_EQ(*kv_.CompareSet("j", "k", "zz", "v3"), "v2");
  EXPECT_EQ(kv_.Get("j", "k")->value(), "v2");
  // Absent + non-empty expected: nothing set, expected back.
  EXPECT_EQ(*kv_.CompareSet("j", "absent", "e", "d"), "e");
  EXPECT_FALSE(kv_.Get("j", "absent")->has_value());
}

TEST_F(RendezvousStoreTest, CheckNamesMissingKeysInOrder) {
  ASSERT_THAT(kv_.Set("j", "b", ""), IsOk());
  auto r = kv_.Check("j", {"a", "b", "c"});
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->missing, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(r->num_keys, 1);
}

TEST_F(RendezvousStoreTest, JobsAreSeparateAndUnknownJobsAreRefused) {
  kv_.OpenJob("other");
  ASSERT_THAT(kv_.Set("j", "k", "mine"), IsOk());
  EXPECT_FALSE(kv_.Get("other", "k")->has_value());
  EXPECT_EQ(kv_.Set("nope", "k", "v").code(), StatusCode::kNotFound);
  EXPECT_EQ(kv_.Get("nope", "k").status().code(), StatusCode::kNotFound);
  kv_.DropJob("j", Status(StatusCode::kAborted, "ended"));
  EXPECT_FALSE(kv_.HasJob("j"));
  EXPECT_EQ(kv_.NumKeys("j").status().code(), StatusCode::kNotFound);
}

TEST_F(RendezvousStoreTest, WaitFiresAtOnceWhenKeysExist) {
  ASSERT_THAT(kv_.Set("j", "a", ""), IsOk());
  int calls = 0;
  Status got(StatusCode::kUnknown, "not called");
  auto id = kv_.WaitAsync("j", {"a"}, [&](const Status& s) {
    ++calls;
    got = s;
  });
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(got, IsOk());
  EXPECT_EQ(kv_.PendingWaits(), 0u);
}

TEST_F(RendezvousStoreTest, WaitFiresWhenTheLastKeyArrivesByAnyWrite) {
  int calls = 0;
  kv_.WaitAsync("j", {"a", "b", "c"}, [&](const Status& s) {
    EXPECT_THAT(s, IsOk());
    ++calls;
  });
  ASSERT_THAT(kv_.Set("j", "a", "1"), IsOk());
  ASSERT_THAT(kv_.Add("j", "b", 1), IsOk());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(kv_.PendingWaits(), 1u);
  ASSERT_THAT(kv_.CompareSet("j", "c", "", "x"), IsOk());
  EXPECT_EQ(calls, 1);
  ASSERT_THAT(kv_.Set("j", "a", "2"), IsOk());  // fires once only
  EXPECT_EQ(calls, 1);
}

TEST_F(RendezvousStoreTest, DeletedKeyIsWaitedForAgain) {
  int calls = 0;
  kv_.WaitAsync("j", {"a", "b"}, [&](const Status&) { ++calls; });
  ASSERT_THAT(kv_.Set("j", "a", ""), IsOk());
  ASSERT_THAT(kv_.Delete("j", "a"), IsOk());
  ASSERT_THAT(kv_.Set("j", "b", ""), IsOk());
  EXPECT_EQ(calls, 0);
  ASSERT_THAT(kv_.Set("j", "a", ""), IsOk());
  EXPECT_EQ(calls, 1);
}

TEST_F(RendezvousStoreTest, CancelledWaitNeverFires) {
  int calls = 0;
  auto id = kv_.WaitAsync("j", {"a"}, [&](const Status&) { ++calls; });
  EXPECT_TRUE(kv_.CancelWait(id));
  EXPECT_FALSE(kv_.CancelWait(id));
  ASSERT_THAT(kv_.Set("j", "a", ""), IsOk());
  EXPECT_EQ(calls, 0);
}

TEST_F(RendezvousStoreTest, WaitCancelledAfterItsFirstKeyArrivedNeverFires) {
  int calls = 0;
  auto id = kv_.WaitAsync("j", {"a", "b"}, [&](const Status&) { ++calls; });
  ASSERT_THAT(kv_.Set("j", "a", ""), IsOk());  // now it waits for "b"
  EXPECT_TRUE(kv_.CancelWait(id));
  ASSERT_THAT(kv_.Set("j", "b", ""), IsOk());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(kv_.PendingWaits(), 0u);
}

TEST_F(RendezvousStoreTest, WritesWakeOnlyTheWaitersOfTheirKey) {
  std::vector<int> fired;
  for (int i = 0; i < 3; ++i) {
    kv_.WaitAsync("j", {"ready"},
                  [&, i](const Status&) { fired.push_back(i); });
  }
  kv_.WaitAsync("j", {"other"}, [&](const Status&) { fired.push_back(9); });
  ASSERT_THAT(kv_.Set("j", "x", ""), IsOk());
  EXPECT_TRUE(fired.empty());
  ASSERT_THAT(kv_.Set("j", "ready", ""), IsOk());
  EXPECT_EQ(fired, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(kv_.PendingWaits(), 1u);
}

TEST_F(RendezvousStoreTest, DroppingTheJobFailsItsWaitersOnly) {
  kv_.OpenJob("other");
  Status mine, theirs(StatusCode::kUnknown, "pending");
  kv_.WaitAsync("j", {"a"}, [&](const Status& s) { mine = s; });
  kv_.WaitAsync("other", {"a"}, [&](const Status& s) { theirs = s; });
  kv_.DropJob("j", Status(StatusCode::kAborted, "job j ended: failed"));
  EXPECT_EQ(mine.code(), StatusCode::kAborted);
  EXPECT_EQ(mine.message(), "job j ended: failed");
  EXPECT_EQ(theirs.code(), StatusCode::kUnknown);
  EXPECT_EQ(kv_.PendingWaits(), 1u);
  kv_.CancelAllWaits(Unavailable("shutting down"));
  EXPECT_EQ(theirs.code(), StatusCode::kUnavailable);
}

TEST_F(RendezvousStoreTest, WaitOnUnknownJobFailsAtOnce) {
  Status got;
  EXPECT_EQ(kv_.WaitAsync("nope", {"a"}, [&](const Status& s) { got = s; }),
            0u);
  EXPECT_EQ(got.code(), StatusCode::kNotFound);
}

TEST_F(RendezvousStoreTest, CallbackMayCallBackIntoTheStore) {
  // Callbacks run outside the lock: a callback that writes must not
  // deadlock, and its write may complete another waiter.
  int second = 0;
  kv_.WaitAsync("j", {"b"}, [&](const Status&) { ++second; });
  kv_.WaitAsync("j", {"a"}, [&](const Status&) {
    ASSERT_THAT(kv_.Set("j", "b", ""), IsOk());
  });
  ASSERT_THAT(kv_.Set("j", "a", ""), IsOk());
  EXPECT_EQ(second, 1);
}

TEST_F(RendezvousStoreTest, ConcurrentAddsAndWaits) {
  constexpr int kThreads = 8;
  constexpr int kAdds = 500;
  std::atomic<int> fired{0};
  for (int t = 0; t < kThreads; ++t) {
    kv_.WaitAsync("j", {"done/" + std::to_string(t)}, [&](const Status& s) {
      if (s.ok()) ++fired;
    });
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAdds; ++i) ASSERT_THAT(kv_.Add("j", "n", 1), IsOk());
      ASSERT_THAT(kv_.Set("j", "done/" + std::to_string(t), ""), IsOk());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(kv_.Get("j", "n")->value(), std::to_string(kThreads * kAdds));
  EXPECT_EQ(fired.load(), kThreads);
  EXPECT_EQ(kv_.PendingWaits(), 0u);
}

TEST_F(RendezvousStoreTest, AFenceCountsEachRankOnceAndWakesItsWaitersAtWorld) {
  bool woken = false;
  kv_.WaitAsync("j", {"f/done"}, [&](const Status& s) { woken = s.ok(); });
  EXPECT_EQ(*kv_.JoinFence("j", "f", 3, {{0, "zero"}, {1, "one"}}), 2);
  // A retry of rank 1 (its answer was lost) changes nothing.
  EXPECT_EQ(*kv_.JoinFence("j", "f", 3, {{1, "one"}}), 2);
  EXPECT_FALSE(woken);
  EXPECT_FALSE(kv_.Get("j", "f/done")->has_value());
  EXPECT_EQ(*kv_.JoinFence("j", "f", 3, {{2, "two"}}), 3);
  EXPECT_TRUE(woken);
  EXPECT_EQ(kv_.Get("j", "f/r/1")->value(), "one");
  EXPECT_EQ(kv_.Get("j", "f/count")->value(), "3");
  EXPECT_THAT(kv_.JoinFence("nope", "f", 1, {{0, ""}}),
              ::dstrain::testing::StatusIs(StatusCode::kNotFound));
}

}  // namespace
}  // namespace dstrain::coordinator
