#include "worker/rendezvous/tcp_kv_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "common/loopback_port.h"

namespace dstrain::rendezvous {
namespace {

using std::chrono::milliseconds;

TEST(TcpKvStoreTest, ServerAndClientShareKeys) {
  TcpStoreOptions o;
  o.host = "127.0.0.1";
  o.port = FreeLoopbackPort();
  o.world_size = 2;
  o.timeout = milliseconds(20000);
  o.is_server = true;
  auto server = ConnectTcpStore(o);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  o.is_server = false;
  auto client = ConnectTcpStore(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();

  ASSERT_TRUE((*server)->Set("addr", std::string("\0\x10", 2)).ok());
  auto v = (*client)->Get("addr", milliseconds(1000));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, std::string("\0\x10", 2));
  EXPECT_EQ(*(*client)->Add("n", 2), 2);
  EXPECT_EQ(*(*server)->Add("n", 3), 5);
  EXPECT_EQ(*(*client)->CompareSet("c", "", "x"), "x");
  EXPECT_TRUE(*(*server)->Check({"addr", "n", "c"}));
  EXPECT_TRUE(*(*server)->Delete("c"));

  std::thread writer([&] {
    ASSERT_TRUE((*client)->Wait({"go"}, milliseconds(20000)).ok());
    ASSERT_TRUE((*client)->Set("late", "1").ok());
  });
  ASSERT_TRUE((*server)->Set("go", "").ok());
  EXPECT_TRUE((*server)->Wait({"late"}, milliseconds(20000)).ok());
  writer.join();

  auto missing = (*client)->Get("never", milliseconds(100));
  ASSERT_FALSE(missing.ok());
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
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_GT(bound, 0);
  o.is_server = false;
  o.port = bound;
  auto client = ConnectTcpStore(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*server)->Set("k", "v").ok());
  EXPECT_EQ(*(*client)->Get("k", milliseconds(1000)), "v");

  o.port = 0;  // a client needs a real port
  auto refused = ConnectTcpStore(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
}

TEST(TcpKvStoreTest, UnreachableServerIsAnErrorNamingTheAddress) {
  TcpStoreOptions o;
  o.host = "127.0.0.1";
  o.port = FreeLoopbackPort();  // nobody listens
  o.timeout = milliseconds(500);
  auto s = ConnectTcpStore(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("127.0.0.1:" + std::to_string(o.port)),
            std::string::npos)
      << s.status().message();
}

}  // namespace
}  // namespace dstrain::rendezvous
