#include "topology/io/cluster_file.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "topology/model/summary.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;

const std::string kSrc = DSTRAIN_SOURCE_DIR;

TEST(ClusterFile, PicksTheFormat) {
  EXPECT_EQ(DetectClusterFileFormat("a.yaml", "SwitchName=x"),
            ClusterFileFormat::kYaml);
  EXPECT_EQ(DetectClusterFileFormat("a.YML", ""), ClusterFileFormat::kYaml);
  EXPECT_EQ(DetectClusterFileFormat("topology.conf", "hosts: []"),
            ClusterFileFormat::kSlurmTopology);
  EXPECT_EQ(DetectClusterFileFormat("fabric", "# c\n\n  switchname=s0 Nodes=a"),
            ClusterFileFormat::kSlurmTopology);
  EXPECT_EQ(DetectClusterFileFormat("fabric", "# c\nhosts:\n  - name: a\n"),
            ClusterFileFormat::kYaml);
}

TEST(ClusterFile, LoadsEverySample) {
  for (const char* f :
       {"local.yaml", "fat-tree-2leaf.yaml", "rail-optimized-4x2.yaml",
        "torus-4x4.yaml", "slurm-topology.conf"}) {
    StatusOr<Cluster> c = LoadClusterFile(kSrc + "/configs/clusters/" + f);
    ASSERT_THAT(c, IsOk()) << f << ": " << c.status().message();
    EXPECT_THAT(c->Validate(), IsOk()) << f;
    EXPECT_THAT(c->CheckConnected(), IsOk()) << f;
  }
  SlurmTopologyOptions o;
  o.devices_per_host = 8;
  StatusOr<Cluster> s =
      LoadClusterFile(kSrc + "/configs/clusters/slurm-topology.conf", o);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->total_devices(), 135 * 8);
  EXPECT_EQ(LoadClusterFile("/nonexistent").status().code(),
            StatusCode::kNotFound);
}

// docs/topology.md shows this summary.
TEST(ClusterFile, SummaryOfTheTwoLeafSample) {
  StatusOr<Cluster> c =
      LoadClusterFile(kSrc + "/configs/clusters/fat-tree-2leaf.yaml");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(
      FormatSummary(Summarize(*c)),
      "fat-tree-2leaf: fat-tree, 4 hosts (8 devices, 2 per host), 3 switches, "
      "8 links\n"
      "links: 12.5 GB/s, 1 us\n"
      "level 0: 2 switches, up to 2 down / 2 up ports, oversubscription 1:1\n"
      "level 1: 1 switch, up to 4 down / 0 up ports\n");
}

}  // namespace
}  // namespace dstrain::topology
