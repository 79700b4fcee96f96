// DescribeJobFabric: the job's hosts under their leaves with the spines
// above them; the cap on switches per level; torus coordinates; rails; no
// description at all.
#include "coordinator/job_fabric.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/testing/status_matchers.h"
#include "topology/io/cluster_yaml.h"
#include "topology/model/generators.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// hostB under leaf0, hostA under leaf1, spares on both; one spine.
constexpr const char* kTwoLeaves =
    "name: two-leaves\n"
    "fabric: {kind: fat-tree, k: 8, levels: 2, oversubscription: 1}\n"
    "defaults: {devices: 2}\n"
    "switches:\n"
    "  - {name: \"leaf[0-1]\", level: 0}\n"
    "  - {name: spine0, level: 1}\n"
    "hosts:\n"
    "  - {name: \"hostB,spare[0-1]\", leaf: leaf0}\n"
    "  - {name: \"hostA,spare[2-3]\", leaf: leaf1}\n"
    "links:\n"
    "  - {a: \"leaf[0-1]\", b: spine0, count: 3}\n";

std::vector<std::string> Names(const proto::JobFabric& f, int level) {
  std::vector<std::string> out;
  for (const proto::FabricSwitch& s : f.switches()) {
    if (s.level() == level) out.push_back(s.name());
  }
  return out;
}

TEST(JobFabricTest, NodesSitUnderTheirLeavesWithTheSpineAbove) {
  StatusOr<topology::Cluster> c =
      topology::ParseClusterYaml(kTwoLeaves, "two-leaves.yaml");
  ASSERT_THAT(c, IsOk());
  const proto::JobFabric f = DescribeJobFabric(
      &*c, {{"n-1", "hostB", false}, {"n-0", "hostA", true}}, 2);
  EXPECT_EQ(f.kind(), "fat-tree");
  EXPECT_EQ(f.cluster(), "two-leaves");
  ASSERT_EQ(f.nodes_size(), 2);
  EXPECT_EQ(f.nodes(0).hostname(), "hostB");
  EXPECT_EQ(f.nodes(0).node_id(), "n-1");
  EXPECT_THAT(f.nodes(0).leaves(), ElementsAre("leaf0"));
  EXPECT_EQ(f.nodes(0).first_rank(), 0);
  EXPECT_FALSE(f.nodes(0).lost());
  EXPECT_THAT(f.nodes(1).leaves(), ElementsAre("leaf1"));
  EXPECT_EQ(f.nodes(1).node_rank(), 1);
  EXPECT_EQ(f.nodes(1).first_rank(), 2);
  EXPECT_EQ(f.nodes(1).ranks(), 2);
  EXPECT_TRUE(f.nodes(1).lost());
  // Only the switches serving the job: both leaves (the spares' hosts are
  // not drawn), the spine over them, each leaf's uplink named once
  // however many parallel links it has.
  EXPECT_THAT(Names(f, 0), ElementsAre("leaf0", "leaf1"));
  EXPECT_THAT(Names(f, 1), ElementsAre("spine0"));
  for (const proto::FabricSwitch& s : f.switches()) {
    if (s.level() == 0) {
      EXPECT_THAT(s.up(), ElementsAre("spine0"));
    } else {
      EXPECT_THAT(s.up(), IsEmpty());
    }
  }
  EXPECT_EQ(f.switches_omitted(), 0);
}

TEST(JobFabricTest, AJobOnOneLeafShowsThatLeafOnly) {
  StatusOr<topology::Cluster> c =
      topology::ParseClusterYaml(kTwoLeaves, "two-leaves.yaml");
  ASSERT_THAT(c, IsOk());
  const proto::JobFabric f = DescribeJobFabric(
      &*c, {{"a", "spare2", false}, {"b", "hostA", false}}, 1);
  EXPECT_THAT(Names(f, 0), ElementsAre("leaf1"));
  EXPECT_THAT(Names(f, 1), ElementsAre("spine0"));
}

TEST(JobFabricTest, SwitchesAboveTheLeavesAreCappedPerLevel) {
  topology::FatTreeOptions o;
  o.hosts = 1024;
  o.k = 16;
  o.levels = 3;
  o.devices_per_host = 8;
  StatusOr<topology::Cluster> c = topology::MakeFatTree(o);
  ASSERT_THAT(c, IsOk());
  std::vector<FabricPlacement> nodes;
  for (int i = 0; i < 1024; ++i) {
    const std::string name = c->vertex(c->hosts()[i]).name;
    nodes.push_back({"n" + std::to_string(i), name, false});
  }
  const proto::JobFabric f = DescribeJobFabric(&*c, nodes, 8);
  ASSERT_EQ(f.nodes_size(), 1024);
  // Every leaf of the job is drawn; above them at most the cap per level,
  // and what was left out is counted.
  int leaves_of_cluster = 0;
  for (topology::VertexId s : c->switches()) {
    if (c->Level(s) == 0) ++leaves_of_cluster;
  }
  EXPECT_EQ(static_cast<int>(Names(f, 0).size()), leaves_of_cluster);
  EXPECT_LE(Names(f, 1).size(), static_cast<std::size_t>(kMaxSwitchesPerLevel));
  EXPECT_LE(Names(f, 2).size(), static_cast<std::size_t>(kMaxSwitchesPerLevel));
  EXPECT_GT(f.switches_omitted(), 0);
  EXPECT_EQ(f.nodes(1023).first_rank(), 1023 * 8);
  // An uplink only names a switch that is drawn.
  std::set<std::string> shown;
  for (const proto::FabricSwitch& s : f.switches()) shown.insert(s.name());
  for (const proto::FabricSwitch& s : f.switches()) {
    for (const std::string& up : s.up()) EXPECT_EQ(shown.count(up), 1u) << up;
  }
}

TEST(JobFabricTest, TorusNodesCarryTheirCoordinates) {
  topology::TorusOptions o;
  o.dims = {4, 4};
  o.devices_per_host = 1;
  StatusOr<topology::Cluster> c = topology::MakeTorus(o);
  ASSERT_THAT(c, IsOk());
  const topology::Vertex& h = c->vertex(c->hosts()[5]);
  const proto::JobFabric f = DescribeJobFabric(&*c, {{"n", h.name, false}}, 1);
  EXPECT_EQ(f.kind(), "torus");
  EXPECT_THAT(f.torus_dims(), ElementsAre(4, 4));
  EXPECT_THAT(f.torus_wrap(), ElementsAre(true, true));
  ASSERT_EQ(f.nodes_size(), 1);
  EXPECT_THAT(f.nodes(0).torus_coords(),
              ElementsAre(h.host.torus_coords[0], h.host.torus_coords[1]));
  EXPECT_THAT(f.nodes(0).leaves(), IsEmpty());
  EXPECT_EQ(f.switches_size(), 0);
}

TEST(JobFabricTest, ARailOptimizedHostListsALeafPerRail) {
  topology::RailOptimizedOptions o;
  o.hosts = 4;
  o.rails = 2;
  o.k = 8;
  o.devices_per_host = 2;
  StatusOr<topology::Cluster> c = topology::MakeRailOptimized(o);
  ASSERT_THAT(c, IsOk());
  const std::string host = c->vertex(c->hosts()[0]).name;
  const proto::JobFabric f = DescribeJobFabric(&*c, {{"n", host, false}}, 2);
  EXPECT_EQ(f.kind(), "rail-optimized");
  ASSERT_EQ(f.nodes_size(), 1);
  EXPECT_EQ(f.nodes(0).leaves_size(), 2);
  std::set<int> rails;
  for (const proto::FabricSwitch& s : f.switches()) {
    if (s.level() == 0) rails.insert(s.rail());
  }
  EXPECT_EQ(rails, (std::set<int>{0, 1}));
}

TEST(JobFabricTest, WithoutADescriptionNodesComeInRankOrderAlone) {
  const proto::JobFabric f =
      DescribeJobFabric(nullptr, {{"x", "vm1", false}, {"y", "vm2", true}}, 4);
  EXPECT_EQ(f.kind(), "none");
  EXPECT_EQ(f.switches_size(), 0);
  ASSERT_EQ(f.nodes_size(), 2);
  EXPECT_EQ(f.nodes(1).hostname(), "vm2");
  EXPECT_EQ(f.nodes(1).first_rank(), 4);
  EXPECT_TRUE(f.nodes(1).lost());
}

TEST(JobFabricTest, AHostTheDescriptionNoLongerHasStandsAlone) {
  StatusOr<topology::Cluster> c =
      topology::ParseClusterYaml(kTwoLeaves, "two-leaves.yaml");
  ASSERT_THAT(c, IsOk());
  const proto::JobFabric f =
      DescribeJobFabric(&*c, {{"a", "gone", false}, {"b", "hostB", false}}, 1);
  EXPECT_THAT(f.nodes(0).leaves(), IsEmpty());
  EXPECT_THAT(Names(f, 0), ElementsAre("leaf0"));
}

}  // namespace
}  // namespace dstrain::coordinator
