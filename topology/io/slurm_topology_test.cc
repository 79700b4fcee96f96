#include "topology/io/slurm_topology.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/testing/status_matchers.h"
#include "topology/io/testdata_util.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

const std::string kSrc = DSTRAIN_SOURCE_DIR;

TEST(SlurmTopology, ParsesTheSampleWithNestedSwitchesAndRanges) {
  StatusOr<Cluster> c =
      LoadSlurmTopologyFile(kSrc + "/configs/clusters/slurm-topology.conf");
  ASSERT_THAT(c, IsOk()) << c.status().message();
  EXPECT_EQ(c->fabric().kind, FabricKind::kFatTree);
  EXPECT_EQ(c->fabric().levels, 3);
  EXPECT_EQ(c->num_hosts(), 128 + 7);
  EXPECT_EQ(c->num_switches(), 9 + 2 + 1);
  EXPECT_THAT(c->CheckConnected(), IsOk());
  EXPECT_EQ(c->vertex(0).name, "gpu-001");
  EXPECT_EQ(c->vertex(127).name, "gpu-128");
  EXPECT_EQ(c->Find("c6"), kNoVertex);
  const VertexId c7 = c->Find("c7");
  ASSERT_NE(c7, kNoVertex);
  const VertexId leaf09 = c->LeafOf(c7);
  EXPECT_EQ(c->vertex(leaf09).name, "leaf09");
  EXPECT_DOUBLE_EQ(c->link(c->LinkBetween(c7, leaf09)).bandwidth,
                   GbpsToBytesPerSecond(100));
  EXPECT_EQ(c->Level(c->Find("leaf03")), 0);
  EXPECT_EQ(c->Level(c->Find("spine2")), 1);
  EXPECT_EQ(c->Level(c->Find("core")), 2);
  // The continued line's Switches= reached the core.
  EXPECT_NE(c->LinkBetween(c->Find("core"), leaf09), kNoLink);
  EXPECT_NE(c->LinkBetween(c->Find("core"), c->Find("spine1")), kNoLink);
  EXPECT_DOUBLE_EQ(
      c->link(c->LinkBetween(c->Find("core"), c->Find("spine1"))).bandwidth,
      GbpsToBytesPerSecond(800));
  // gpu-001 to gpu-128 crosses leaf, spine, core, spine, leaf.
  EXPECT_EQ(c->HopDistances(0)[127], 6);
}

TEST(SlurmTopology, OptionsAndCaseInsensitiveKeys) {
  SlurmTopologyOptions o;
  o.devices_per_host = 4;
  o.default_bandwidth = 1e9;
  StatusOr<Cluster> c = ParseSlurmTopology(
      "switchname=a NODES=n[1-2]\r\nSWITCHNAME=b nodes=n3\nSwitchName=t "
      "Switches=a,b\n",
      "t.conf", o);
  ASSERT_THAT(c, IsOk()) << c.status().message();
  EXPECT_EQ(c->total_devices(), 12);
  EXPECT_DOUBLE_EQ(c->link(0).bandwidth, 1e9);
  // Disjoint trees are allowed (as in Slurm) but are not one fabric.
  StatusOr<Cluster> two =
      ParseSlurmTopology("SwitchName=a Nodes=x\nSwitchName=b Nodes=y\n", "two");
  ASSERT_THAT(two, IsOk());
  EXPECT_THAT(two->CheckConnected(), Not(IsOk()));
  EXPECT_EQ(LoadSlurmTopologyFile("/nonexistent/topology.conf").status().code(),
            StatusCode::kNotFound);
}

// A long explicit Nodes= list is read in linear time: each node's position
// in the value is looked for only when a message needs it.
TEST(SlurmTopology, LongNodeListsAreLinear) {
  std::string conf = "SwitchName=s0 Nodes=";
  for (int i = 0; i < 20000; ++i) conf += (i ? ",n" : "n") + std::to_string(i);
  const auto start = std::chrono::steady_clock::now();
  StatusOr<Cluster> c = ParseSlurmTopology(conf + "\n", "long.conf");
  ASSERT_THAT(c, IsOk()) << c.status().message();
  EXPECT_EQ(c->num_hosts(), 20000);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(SlurmTopology, BadFilesNameTheLine) {
  const auto files = testing::FilesIn(kSrc + "/topology/io/testdata/slurm/bad");
  ASSERT_GE(files.size(), 10u);
  for (const auto& path : files) {
    const std::string text = testing::ReadFile(path.string());
    const std::string expect = testing::Expectation(text);
    ASSERT_FALSE(expect.empty()) << path << " lacks `# expect: `";
    StatusOr<Cluster> c = ParseSlurmTopology(text, path.filename().string());
    ASSERT_THAT(c, Not(IsOk())) << path;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(expect), std::string::npos)
        << path.filename() << "\n  got:    " << c.status().message()
        << "\n  expect: " << expect;
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace dstrain::topology
