#include "topology/io/cluster_yaml.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "common/units.h"
#include "topology/io/testdata_util.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

const std::string kSrc = DSTRAIN_SOURCE_DIR;
const std::string kClusters = kSrc + "/configs/clusters/";

Cluster Load(const std::string& path) {
  StatusOr<Cluster> c = LoadClusterYamlFile(path);
  EXPECT_THAT(c, IsOk()) << path << ": " << c.status().message();
  return c.ok() ? *c : Cluster{};
}

TEST(ClusterYaml, Local) {
  Cluster c = Load(kClusters + "local.yaml");
  EXPECT_EQ(c.name(), "local");
  EXPECT_EQ(c.num_hosts(), 1);
  EXPECT_EQ(c.total_devices(), 4);
  EXPECT_EQ(c.fabric().kind, FabricKind::kUnknown);
}

TEST(ClusterYaml, FatTreeTwoLeaves) {
  Cluster c = Load(kClusters + "fat-tree-2leaf.yaml");
  EXPECT_EQ(c.fabric().kind, FabricKind::kFatTree);
  EXPECT_EQ(c.fabric().k, 4);
  EXPECT_EQ(c.num_hosts(), 4);
  EXPECT_EQ(c.num_switches(), 3);
  EXPECT_EQ(c.total_devices(), 8);
  EXPECT_EQ(c.num_links(), 4 + 4);  // 4 host links, 2 x 2 leaf-spine cables
  const VertexId n2 = c.Find("node2");
  EXPECT_EQ(c.vertex(c.LeafOf(n2)).name, "leaf1");
  EXPECT_EQ(c.LinksBetween(c.Find("leaf0"), c.Find("spine0")).size(), 2u);
  EXPECT_DOUBLE_EQ(c.link(0).bandwidth, GbpsToBytesPerSecond(100));
  EXPECT_DOUBLE_EQ(c.link(0).latency, 1e-6);
  EXPECT_THAT(c.CheckConnected(), IsOk());
}

TEST(ClusterYaml, RailOptimized) {
  Cluster c = Load(kClusters + "rail-optimized-4x2.yaml");
  EXPECT_EQ(c.fabric().kind, FabricKind::kRailOptimized);
  EXPECT_EQ(c.fabric().rails, 2);
  for (VertexId h : c.hosts()) {
    EXPECT_EQ(c.degree(h), 2);
    EXPECT_EQ(c.vertex(c.LeafOf(h, 1)).sw.rail, 1);
    EXPECT_EQ(c.vertex(h).host.numa_nodes.size(), 2u);
    EXPECT_EQ(c.vertex(h).host.numa_nodes[1].cpus.front(), 32);
  }
  EXPECT_EQ(c.vertex(c.LeafOf(c.Find("node3"), 0)).name, "g1-rail0");
  EXPECT_DOUBLE_EQ(
      c.link(c.LinkBetween(c.Find("g0-rail0"), c.Find("rail0-spine")))
          .bandwidth,
      GbpsToBytesPerSecond(800));
}

TEST(ClusterYaml, Generators) {
  Cluster torus = Load(kClusters + "torus-4x4.yaml");
  EXPECT_EQ(torus.name(), "torus-4x4");
  EXPECT_EQ(torus.num_hosts(), 16);
  EXPECT_EQ(torus.num_links(), 32);
  EXPECT_EQ(torus.total_devices(), 64);
  EXPECT_DOUBLE_EQ(torus.link(0).bandwidth, GbpsToBytesPerSecond(200));
  Cluster big = Load(kClusters + "fat-tree-1024x8.yaml");
  EXPECT_EQ(big.total_devices(), 8192);
  EXPECT_EQ(big.fabric().levels, 3);
  Cluster cube = Load(kClusters + "torus-16x16x16.yaml");
  EXPECT_EQ(cube.num_hosts(), 4096);
}

TEST(ClusterYaml, ExplicitTorusGetsNeighbourLinks) {
  Cluster c =
      Load(kSrc + "/topology/io/testdata/yaml/good/explicit_torus.yaml");
  EXPECT_EQ(c.fabric().kind, FabricKind::kTorus);
  // 3x2 with wraparound: dimension 0 (size 3) wraps, dimension 1 (size 2)
  // has one link per pair.
  EXPECT_EQ(c.num_links(), 6 + 3);
  EXPECT_DOUBLE_EQ(c.link(0).bandwidth, 50e9);
  const int at[] = {2, 1};
  EXPECT_EQ(c.vertex(c.HostAtCoords(at)).name, "t21");
  EXPECT_THAT(c.CheckConnected(), IsOk());
}

TEST(ClusterYaml, DeviceAndNicDetails) {
  Cluster c = Load(kSrc + "/topology/io/testdata/yaml/good/gpu_node.yaml");
  const HostInfo& h = c.vertex(c.Find("dgx01")).host;
  ASSERT_EQ(h.device_info.size(), 2u);
  EXPECT_EQ(h.device_info[1].pci_bus_id, "0000:9a:00.0");
  EXPECT_EQ(h.device_info[1].numa_node, 1);
  EXPECT_EQ(h.device_info[1].sm, 90);
  EXPECT_EQ(h.device_info[1].index, 1);
  EXPECT_EQ(h.device_info[0].memory_bytes, 80'000'000'000);
  ASSERT_EQ(h.nics.size(), 2u);
  EXPECT_EQ(h.nics[0].guid, "0x1c34da0300a1b2c3");
  EXPECT_DOUBLE_EQ(h.nics[1].bandwidth, 50e9);
  EXPECT_EQ(h.numa_nodes[1].cpus, (std::vector<int>{4, 5, 6, 7}));
}

TEST(ClusterYaml, BadFilesNameThePlace) {
  const auto files = testing::FilesIn(kSrc + "/topology/io/testdata/yaml/bad");
  ASSERT_GE(files.size(), 20u);
  for (const auto& path : files) {
    const std::string text = testing::ReadFile(path.string());
    const std::string expect = testing::Expectation(text);
    ASSERT_FALSE(expect.empty()) << path << " lacks `# expect: `";
    StatusOr<Cluster> c = ParseClusterYaml(text, path.filename().string());
    ASSERT_THAT(c, Not(IsOk())) << path;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find(expect), std::string::npos)
        << path.filename() << "\n  got:    " << c.status().message()
        << "\n  expect: " << expect;
    EXPECT_EQ(c.status().message().find('\n'), std::string::npos);
  }
  EXPECT_EQ(LoadClusterYamlFile("/nonexistent.yaml").status().code(),
            StatusCode::kNotFound);
}

TEST(Units, ParseAndFormat) {
  EXPECT_DOUBLE_EQ(*ParseBandwidth("400 Gb/s"), 50e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("400Gbps"), 50e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("400 Gbit/s"), 50e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("50 GB/s"), 50e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("50GBps"), 50e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("1.6 Tb/s"), 200e9);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("100 Mb/s"), 12.5e6);
  EXPECT_FALSE(ParseBandwidth("400"));
  EXPECT_FALSE(ParseBandwidth("0 Gb/s"));
  EXPECT_FALSE(ParseBandwidth("fast"));
  EXPECT_FALSE(ParseBandwidth("400 Gb/h"));
  EXPECT_DOUBLE_EQ(*ParseLatency("500 ns"), 500e-9);
  EXPECT_DOUBLE_EQ(*ParseLatency("1us"), 1e-6);
  EXPECT_DOUBLE_EQ(*ParseLatency("1 \u00b5s"), 1e-6);
  EXPECT_DOUBLE_EQ(*ParseLatency("2 ms"), 2e-3);
  EXPECT_DOUBLE_EQ(*ParseLatency("0 s"), 0);
  EXPECT_FALSE(ParseLatency("1"));
  EXPECT_FALSE(ParseLatency("-1 us"));
  EXPECT_EQ(FormatBandwidth(50e9), "50 GB/s");
  EXPECT_EQ(FormatBandwidth(200e9), "200 GB/s");
  EXPECT_EQ(FormatLatency(0.5e-6), "500 ns");
  EXPECT_EQ(FormatLatency(2e-6), "2 us");
}

}  // namespace
}  // namespace dstrain::topology
