#include "common/rendezvous/prefix_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"

namespace dstrain::rendezvous {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

TEST(PrefixStoreTest, ScopesEveryKeyUnderItsPrefix) {
  auto base = std::make_shared<InMemoryKvStore>();
  PrefixStore a(base, "job1");
  PrefixStore b(base, "job2");
  ASSERT_THAT(a.Set("addr", "10.0.0.1"), IsOk());
  ASSERT_THAT(b.Set("addr", "10.0.0.2"), IsOk());
  EXPECT_EQ(a.Get("addr", 0ms).value(), "10.0.0.1");
  EXPECT_EQ(b.Get("addr", 0ms).value(), "10.0.0.2");
  EXPECT_EQ(base->Get("job1/addr", 0ms).value(), "10.0.0.1");
  EXPECT_EQ(a.Add("n", 2).value(), 2);
  EXPECT_EQ(b.Add("n", 5).value(), 5);
  EXPECT_EQ(a.CompareSet("cas", "", "x").value(), "x");
  EXPECT_TRUE(a.Check({"addr", "n", "cas"}).value());
  EXPECT_FALSE(b.Check({"cas"}).value());
  EXPECT_TRUE(a.Delete("cas").value());
  EXPECT_FALSE(base->Check({"job1/cas"}).value());
  EXPECT_THAT(a.Wait({"addr"}, 0ms), IsOk());
  // A missing key is named with its scope, as the store sees it.
  EXPECT_THAT(b.Wait({"missing"}, 1ms),
              StatusIs(StatusCode::kDeadlineExceeded,
                       HasSubstr("job2/missing")));
}

TEST(PrefixStoreTest, Nests) {
  auto base = std::make_shared<InMemoryKvStore>();
  auto group = std::make_shared<PrefixStore>(base, "g");
  PrefixStore split(group, "split0");
  ASSERT_THAT(split.Set("k", "v"), IsOk());
  EXPECT_EQ(base->Get("g/split0/k", 0ms).value(), "v");
}

}  // namespace
}  // namespace dstrain::rendezvous
