#include "worker/rendezvous/c10d_store_adapter.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"

namespace dstrain::rendezvous {
namespace {

using ::dstrain::testing::IsOk;

using std::chrono::milliseconds;

c10::intrusive_ptr<C10dStoreAdapter> Make(
    std::shared_ptr<KeyValueStore> kv = std::make_shared<InMemoryKvStore>()) {
  return c10::make_intrusive<C10dStoreAdapter>(std::move(kv),
                                               milliseconds(200));
}

TEST(C10dStoreAdapterTest, ForwardsEveryOperation) {
  auto kv = std::make_shared<InMemoryKvStore>();
  auto s = Make(kv);
  s->set("a", std::vector<uint8_t>{0, 1, 255});
  EXPECT_EQ(s->get("a"), (std::vector<uint8_t>{0, 1, 255}));
  EXPECT_EQ(*kv->Get("a", milliseconds(0)), std::string("\0\1\xff", 3));
  EXPECT_EQ(s->add("n", 2), 2);
  EXPECT_EQ(s->add("n", 3), 5);
  EXPECT_EQ(s->compareSet("c", "", "x"), "x");
  EXPECT_EQ(s->compareSet("c", "y", "z"), "x");
  EXPECT_EQ(s->compareSet("c", "x", "z"), "z");
  EXPECT_TRUE(s->check({"a", "n", "c"}));
  EXPECT_FALSE(s->check({"a", "zz"}));
  EXPECT_EQ(s->getNumKeys(), 3);
  EXPECT_TRUE(s->deleteKey("a"));
  EXPECT_FALSE(s->deleteKey("a"));
  EXPECT_EQ(s->getNumKeys(), 2);
  s->wait({"n", "c"});  // present: returns at once
}

TEST(C10dStoreAdapterTest, TimeoutsThrowDistStoreErrorNamingTheKey) {
  auto s = Make();
  try {
    s->get("never");
    FAIL() << "get of a missing key returned";
  } catch (const c10::DistStoreError& e) {
    EXPECT_NE(std::string(e.what()).find("never"), std::string::npos);
  }
  EXPECT_THROW(s->wait({"gone"}, milliseconds(10)), c10::DistStoreError);
  auto kv = std::make_shared<InMemoryKvStore>();
  ASSERT_THAT(kv->Set("t", "text"), IsOk());
  EXPECT_THROW(Make(kv)->add("t", 1), c10::DistStoreError);
}

TEST(C10dStoreAdapterTest, GetWaitsForAWriterAndClonesShareState) {
  auto s = Make();
  s->setTimeout(milliseconds(20000));
  auto clone = s->clone();
  std::thread writer([&] {
    clone->wait({"reader_ready"}, milliseconds(20000));
    clone->set("k", std::vector<uint8_t>{'v'});
  });
  s->set("reader_ready", std::vector<uint8_t>{});
  EXPECT_EQ(s->get("k"), std::vector<uint8_t>{'v'});
  writer.join();
}

TEST(C10dStoreAdapterTest, StringHelpersOfTheBaseClassWork) {
  auto s = Make();
  s->set("s", std::string("hello"));
  EXPECT_EQ(s->get_to_str("s"), "hello");
}

}  // namespace
}  // namespace dstrain::rendezvous
