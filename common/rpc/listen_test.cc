#include "common/rpc/listen.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/testing/status_matchers.h"
#include "common/unique_fd.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::rpc {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A loopback port held by a plain listening socket, as another program
// holding the port would.
struct HeldPort {
  UniqueFd fd;
  int port = 0;
};

HeldPort HoldAPort() {
  HeldPort held;
  held.fd.Reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(held.fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)),
            0);
  EXPECT_EQ(::listen(held.fd.get(), 1), 0);
  socklen_t len = sizeof(a);
  ::getsockname(held.fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  held.port = ntohs(a.sin_port);
  return held;
}

TEST(ListenTest, APortInUseIsOneLineWithTheReasonAndTheFix) {
  HeldPort held = HoldAPort();
  const std::string address = "127.0.0.1:" + std::to_string(held.port);
  grpc::ServerBuilder builder;
  proto::Coordinator::Service service;  // a server needs one to start
  builder.RegisterService(&service);
  StatusOr<StartedServer> s = StartServer(&builder, address, "coordinator");
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable,
                          AllOf(HasSubstr("coordinator: cannot listen on " +
                                          address + ": address already in use"),
                                HasSubstr("--listen"))));
  EXPECT_EQ(s.ok() ? std::string::npos : s.status().message().find('\n'),
            std::string::npos);
}

TEST(ListenTest, AFreePortStartsAndReportsItsNumber) {
  grpc::ServerBuilder builder;
  proto::Agent::Service service;
  builder.RegisterService(&service);
  StatusOr<StartedServer> s = StartServer(&builder, "127.0.0.1:0", "agent");
  ASSERT_THAT(s, IsOk());
  EXPECT_GT(s->port, 0);
  // The port is now ours: the diagnosis sees it in use.
  EXPECT_THAT(WhyCannotListen("127.0.0.1:" + std::to_string(s->port)),
              HasSubstr("address already in use"));
  s->server->Shutdown();
  EXPECT_EQ(WhyCannotListen("127.0.0.1:0"), "");
}

TEST(ListenTest, AForeignAddressAndABadSpellingAreNamed) {
  // 192.0.2.0/24 is reserved for documentation: never this machine's.
  EXPECT_THAT(WhyCannotListen("192.0.2.7:7070"),
              HasSubstr("not an address of this machine"));
  grpc::ServerBuilder builder;
  EXPECT_THAT(StartServer(&builder, "no-port", "agent"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("`no-port` is not host:port")));
}

TEST(ListenTest, TheLocalAddressTowardLoopbackIsLoopback) {
  StatusOr<std::string> local = LocalAddressToward("127.0.0.1:7070");
  ASSERT_THAT(local, IsOk());
  EXPECT_EQ(*local, "127.0.0.1");
  EXPECT_THAT(LocalAddressToward("no-port"),
              StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace dstrain::rpc
