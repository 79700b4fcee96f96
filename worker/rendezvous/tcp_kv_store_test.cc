#include "worker/rendezvous/tcp_kv_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "common/loopback_port.h"
#include "common/testing/status_matchers.h"

namespace dstrain::rendezvous {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using std::chrono::milliseconds;

TEST(TcpKvStoreTest, ServerAndClientShareKeys) {
  TcpStoreOptions o;
  o.host = "127.0.0.1";
  o.port = FreeLoopbackPort();
  o.world_size = 2;
  o.timeout = milliseconds(20000);
  o.is_server = true;
  auto server = ConnectTcpStore(o);
  ASSERT_THAT(server, IsOk()) << server.status().ToString();
  o.is_server = false;
  auto client = ConnectTcpStore(o);
  ASSERT_THAT(client, IsOk()) << client.status().ToString();

  ASSERT_THAT((*server)->Set("addr", std::string("\0\x10", 2)), IsOk());
  auto v = (*client)->Get("addr", milliseconds(1000));
  ASSERT_THAT(v, IsOk()) << v.status().ToString();
  EXPECT_EQ(*v, std::string("\0\x10", 2));
  EXPECT_EQ(*(*client)->Add("n", 2), 2);
  EXPECT_EQ(*(*server)->Add("n", 3), 5);
  EXPECT_EQ(*(*client)->CompareSet("c", "", "x"), "x");
  EXPECT_TRUE(*(*server)->Check({"addr", "n", "c"}));
  EXPECT_TRUE(*(*server)->Delete("c"));

  std::thread writer([&] {
    ASSERT_THAT((*client)->Wait({"go"}, milliseconds(20000)), IsOk());
    ASSERT_THAT((*client)->Set("late", "1"), IsOk());
  });
  ASSERT_THAT((*server)->Set("go", ""), IsOk());
  EXPECT_THAT((*server)->Wait({"late"}, milliseconds(20000)), IsOk());
  writer.join();

  auto missing = (*client)->Get("never", milliseconds(100));
  ASSERT_THAT(missing, Not(IsOk()));
  EXPECT_NE(missing.status().message().find("never"), std::string::npos);
}

TEST(TcpKvStoreTest, ServerOnPortZeroReportsThePortItBound) {
  TcpStoreOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.world_size = 2;
  o.timeout = milliseconds(20000);
  o.is_server = true;
  int bound = 0;
  auto server = ConnectTcpStore(o, &bound);
  ASSERT_THAT(server, IsOk()) << server.status().ToString();
  ASSERT_GT(bound, 0);
  o.is_server = false;
  o.port = bound;
  auto client = ConnectTcpStore(o);
  ASSERT_THAT(client, IsOk()) << client.status().ToString();
  ASSERT_THAT((*server)->Set("k", "v"), IsOk());
  EXPECT_EQ(*(*client)->Get("k", milliseconds(1000)), "v");

  o.port = 0;  // a client needs a real port
  auto refused = ConnectTcpStore(o);
  ASSERT_THAT(refused, Not(IsOk()));
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
}

TEST(TcpKvStoreTest, UnreachableServerIsAnErrorNamingTheAddress) {
  TcpStoreOptions o;
  o.host = "127.0.0.1";
  o.port = FreeLoopbackPort();  // nobody listens
  o.timeout = milliseconds(500);
  auto s = ConnectTcpStore(o);
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_NE(s.status().message().find("127.0.0.1:" + std::to_string(o.port)),
            std::string::npos)
      << s.status().message();
}

}  // namespace
}  // namespace dstrain::rendezvous
