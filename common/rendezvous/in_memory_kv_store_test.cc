#include "common/rendezvous/in_memory_kv_store.h"

#include <gtest/gtest.h>

#include <thread>

namespace dstrain::rendezvous {
namespace {

using std::chrono::milliseconds;

TEST(InMemoryKvStoreTest, SetGetDeleteCount) {
  InMemoryKvStore s;
  ASSERT_TRUE(s.Set("a", std::string("\0\1x", 3)).ok());
  auto v = s.Get("a", milliseconds(0));
  ASSERT_TRUE(v.ok());
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
  ASSERT_FALSE(v.ok());
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
  ASSERT_TRUE(s.Set("t", "text").ok());
  EXPECT_FALSE(s.Add("t", 1).ok());
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
    ASSERT_TRUE(s.Wait({"reader_ready"}, milliseconds(10000)).ok());
    ASSERT_TRUE(s.Set("a", "1").ok());
    ASSERT_TRUE(s.Add("b", 5).ok());
  });
  ASSERT_TRUE(s.Set("reader_ready", "").ok());
  auto v = s.Get("a", milliseconds(10000));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, "1");
  EXPECT_TRUE(s.Wait({"a", "b"}, milliseconds(10000)).ok());
  writer.join();
}

TEST(InMemoryKvStoreTest, ConcurrentAddsAreAtomic) {
  InMemoryKvStore s;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) ASSERT_TRUE(s.Add("n", 1).ok());
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(*s.Add("n", 0), 4000);
}

}  // namespace
}  // namespace dstrain::rendezvous
