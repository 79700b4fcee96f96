#include "topology/model/cluster.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

HostInfo Devices(int n) {
  HostInfo info;
  info.devices = n;
  return info;
}

TEST(Cluster, BuildsAndLooksUp) {
  Cluster c;
  VertexId leaf = c.AddSwitch("leaf0").value();
  VertexId h0 = c.AddHost("h0", Devices(8)).value();
  VertexId h1 = c.AddHost("h1", Devices(8)).value();
  LinkId l0 = c.AddLink(h0, leaf).value();
  c.AddLink(h1, leaf, GbpsToBytesPerSecond(200), 1e-6).value();
  EXPECT_EQ(c.num_vertices(), 3);
  EXPECT_EQ(c.num_hosts(), 2);
  EXPECT_EQ(c.num_switches(), 1);
  EXPECT_EQ(c.total_devices(), 16);
  EXPECT_EQ(c.Find("h1"), h1);
  EXPECT_EQ(c.Find("nope"), kNoVertex);
  EXPECT_EQ(c.LinkBetween(leaf, h0), l0);
  EXPECT_EQ(c.LinkBetween(h0, h1), kNoLink);
  EXPECT_EQ(c.degree(leaf), 2);
  EXPECT_EQ(c.LeafOf(h1), leaf);
  EXPECT_EQ(c.Level(h0), -1);
  EXPECT_EQ(c.Level(leaf), 0);
  EXPECT_DOUBLE_EQ(c.link(1).bandwidth, 25e9);
  EXPECT_EQ(c.link(l0).Other(h0), leaf);
  FabricParams f;
  f.kind = FabricKind::kFatTree;
  c.set_fabric(f);
  EXPECT_THAT(c.Validate(), IsOk());
  EXPECT_THAT(c.CheckConnected(), IsOk());
}

TEST(Cluster, RejectsLocalMistakes) {
  Cluster c;
  VertexId a = c.AddHost("a").value();
  EXPECT_NE(c.AddSwitch("a").status().message().find("duplicate name `a`"),
            std::string::npos);
  EXPECT_THAT(c.AddHost(""), Not(IsOk()));
  EXPECT_NE(c.AddLink(a, a).status().message().find("itself"),
            std::string::npos);
  EXPECT_THAT(c.AddLink(a, 7), Not(IsOk()));
  VertexId s = c.AddSwitch("s").value();
  EXPECT_THAT(c.AddLink(a, s, 0), Not(IsOk()));
  EXPECT_THAT(c.AddLink(a, s, 1e9, -1), Not(IsOk()));
  EXPECT_THAT(c.AddLink(a, s, 1e9, 0, /*nic_a=*/0),
              Not(IsOk()));  // a has no NICs
}

TEST(Cluster, HostUnderTwoLeavesIsAnErrorOnAPlainFatTree) {
  Cluster c;
  FabricParams f;
  f.kind = FabricKind::kFatTree;
  c.set_fabric(f);
  VertexId l0 = c.AddSwitch("l0").value();
  VertexId l1 = c.AddSwitch("l1").value();
  VertexId h = c.AddHost("h").value();
  c.AddLink(h, l0).value();
  c.AddLink(h, l1).value();
  Status s = c.Validate();
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_NE(s.message().find("under two leaf switches, `l0` and `l1`"),
            std::string::npos)
      << s.message();
}

TEST(Cluster, DisconnectedHostsAreReported) {
  Cluster c;
  c.AddHost("a").value();
  c.AddHost("b").value();
  Status s = c.CheckConnected();
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_NE(s.message().find("not connected"), std::string::npos);
}

TEST(Cluster, TorusCoordinates) {
  Cluster c;
  FabricParams f;
  f.kind = FabricKind::kTorus;
  f.torus_dims = {2, 2};
  f.torus_wrap = {true, true};
  c.set_fabric(f);
  HostInfo i;
  i.torus_coords = {1, 0};
  VertexId h = c.AddHost("x", i).value();
  const int at[] = {1, 0};
  EXPECT_EQ(c.HostAtCoords(at), h);
  const int miss[] = {0, 0};
  EXPECT_EQ(c.HostAtCoords(miss), kNoVertex);
  EXPECT_THAT(c.Validate(), IsOk());
  c.AddHost("y", i).value();
  EXPECT_NE(c.Validate().message().find("share torus coordinates (1,0)"),
            std::string::npos);
}

}  // namespace
}  // namespace dstrain::topology
