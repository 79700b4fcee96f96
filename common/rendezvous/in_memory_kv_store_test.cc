#include "common/rendezvous/in_memory_kv_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/testing/status_matchers.h"

namespace dstrain::rendezvous {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using std::chrono::milliseconds;

TEST(InMemoryKvStoreTest, SetGetDeleteCount) {
  InMemoryKvStore s;
  ASSERT_THAT(s.Set("a", std::string("\0\1x", 3)), IsOk());
  auto v = s.Get("a", milliseconds(0));
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(*v, std::string("\0\1x", 3));  // binary-safe
  EXPECT_EQ(*s.NumKeys(), 1);
  EXPECT_TRUE(*s.Check({"a"}));
  EXPECT_FALSE(*s.Check({"a", "b"}));
  EXPECT_TRUE(*s.Delete("a"));
  EXPECT_FALSE(*s.Delete("a"));
  EXPECT_EQ(*s.NumKeys(), 0);
}

TEST(InMemoryKvStoreTest, GetTimesOutNamingTheKey) {
  InMemoryKvStore s;
  auto v = s.Get("missing", milliseconds(20));
  ASSERT_THAT(v, Not(IsOk()));
  EXPECT_EQ(v.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(v.status().message().find("missing"), std::string::npos);
  const Status w = s.Wait({"x", "y"}, milliseconds(20));
  EXPECT_EQ(w.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(w.message().find("`y`"), std::string::npos);
}

TEST(InMemoryKvStoreTest, AddCountsAndRejectsNonIntegers) {
  InMemoryKvStore s;
  EXPECT_EQ(*s.Add("n", 3), 3);
  EXPECT_EQ(*s.Add("n", -1), 2);
  EXPECT_EQ(*s.Get("n", milliseconds(0)), "2");
  ASSERT_THAT(s.Set("t", "text"), IsOk());
  EXPECT_THAT(s.Add("t", 1), Not(IsOk()));
}

TEST(InMemoryKvStoreTest, CompareSetFollowsC10dSemantics) {
  InMemoryKvStore s;
  EXPECT_EQ(*s.CompareSet("k", "x", "y"), "x");  // absent, expected given
  EXPECT_FALSE(*s.Check({"k"}));
  EXPECT_EQ(*s.CompareSet("k", "", "v1"), "v1");      // absent, expected empty
  EXPECT_EQ(*s.CompareSet("k", "nope", "v2"), "v1");  // mismatch
  EXPECT_EQ(*s.CompareSet("k", "v1", "v2"), "v2");    // match
  EXPECT_EQ(*s.Get("k", milliseconds(0)), "v2");
}

TEST(InMemoryKvStoreTest, WaitersWakeWhenAnotherThreadWrites) {
  InMemoryKvStore s;
  std::thread writer([&] {
    // Writes only after the reader announced it is about to block.
    ASSERT_THAT(s.Wait({"reader_ready"}, milliseconds(10000)), IsOk());
    ASSERT_THAT(s.Set("a", "1"), IsOk());
    ASSERT_THAT(s.Add("b", 5), IsOk());
  });
  ASSERT_THAT(s.Set("reader_ready", ""), IsOk());
  auto v = s.Get("a", milliseconds(10000));
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(*v, "1");
  EXPECT_THAT(s.Wait({"a", "b"}, milliseconds(10000)), IsOk());
  writer.join();
}

TEST(InMemoryKvStoreTest, ConcurrentAddsAreAtomic) {
  InMemoryKvStore s;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) ASSERT_THAT(s.Add("n", 1), IsOk());
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(*s.Add("n", 0), 4000);
}

}  // namespace
}  // namespace dstrain::rendezvous
