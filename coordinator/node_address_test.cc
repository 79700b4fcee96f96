#include "coordinator/node_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NodeAddressTest, CidrMembership) {
  StatusOr<Cidr> net = ParseCidr("10.77.0.0/16", "--node-network");
  ASSERT_THAT(net, IsOk());
  EXPECT_TRUE(InCidr(*net, "10.77.3.4"));
  EXPECT_FALSE(InCidr(*net, "10.78.0.1"));
  EXPECT_FALSE(InCidr(*net, "fd00::1"));
  StatusOr<Cidr> odd = ParseCidr("192.168.4.0/22", "--node-network");
  ASSERT_THAT(odd, IsOk());
  EXPECT_TRUE(InCidr(*odd, "192.168.7.255"));
  EXPECT_FALSE(InCidr(*odd, "192.168.8.0"));
  StatusOr<Cidr> v6 = ParseCidr("fd00::/8", "--node-network");
  ASSERT_THAT(v6, IsOk());
  EXPECT_TRUE(InCidr(*v6, "fd12::3"));
  EXPECT_TRUE(InCidr(*ParseCidr("0.0.0.0/0", "f"), "1.2.3.4"));
}

TEST(NodeAddressTest, BadNetworksNameTheFlag) {
  for (const char* bad :
       {"10.0.0.0", "10.0.0.0/33", "x/8", "10.0.0.0/-1", "fd00::/129", ""}) {
    EXPECT_THAT(
        ParseCidr(bad, "--node-network"),
        StatusIs(StatusCode::kInvalidArgument, HasSubstr("--node-network")))
        << bad;
  }
}

TEST(NodeAddressTest, TheAgentsAddressUnlessANetworkIsGiven) {
  const std::vector<std::string> addresses = {"192.168.1.5", "10.77.0.2",
                                              "fd00::2"};
  EXPECT_EQ(*PickNodeAddress("n2", addresses, "10.77.0.2:4000", std::nullopt),
            "10.77.0.2");
  EXPECT_EQ(*PickNodeAddress("n2", addresses, "[fd00::2]:4000", std::nullopt),
            "fd00::2");
  EXPECT_EQ(*PickNodeAddress("n2", addresses, "10.77.0.2:4000",
                             *ParseCidr("192.168.0.0/16", "f")),
            "192.168.1.5");
  EXPECT_THAT(PickNodeAddress("n2", addresses, "10.77.0.2:4000",
                              *ParseCidr("172.16.0.0/12", "f")),
              StatusIs(StatusCode::kNotFound,
                       HasSubstr("node n2 has no address in the node network "
                                 "(--node-network); its addresses: "
                                 "192.168.1.5, 10.77.0.2, fd00::2")));
}

}  // namespace
}  // namespace dstrain::coordinator
