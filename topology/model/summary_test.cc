#include "topology/model/summary.h"

#include <gtest/gtest.h>

#include "topology/model/generators.h"

namespace dstrain::topology {
namespace {

TEST(Summary, MeasuresOversubscriptionPerLevel) {
  FatTreeOptions o;
  o.hosts = 48;
  o.k = 6;
  o.levels = 3;
  o.oversubscription = 2;  // 4 down, 2 up; 12 leaves, 3 pods
  o.devices_per_host = 8;
  o.nic_bandwidth = GbpsToBytesPerSecond(400);
  const ClusterSummary s = Summarize(MakeFatTree(o).value());
  EXPECT_EQ(s.kind, FabricKind::kFatTree);
  EXPECT_EQ(s.hosts, 48);
  EXPECT_EQ(s.devices, 384);
  EXPECT_EQ(s.components, 1);
  ASSERT_EQ(s.levels.size(), 3u);
  EXPECT_EQ(s.levels[0].switches, 12);
  EXPECT_DOUBLE_EQ(s.levels[0].max_oversubscription, 2);
  EXPECT_EQ(s.levels[0].max_down_ports, 4);
  EXPECT_EQ(s.levels[0].max_up_ports, 2);
  EXPECT_DOUBLE_EQ(s.levels[1].max_oversubscription, 2);
  EXPECT_EQ(s.levels[2].switches, 4);
  EXPECT_EQ(s.levels[2].max_oversubscription, 0);
  EXPECT_EQ(s.levels[2].max_down_ports, 3);  // one per pod
  const std::string text = FormatSummary(s);
  EXPECT_NE(
      text.find("fat-tree, 48 hosts (384 devices, 8 per host), 22 switches"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("links: 50 GB/s, 500 ns"), std::string::npos) << text;
  EXPECT_NE(text.find("level 0: 12 switches, up to 4 down / 2 up ports, "
                      "oversubscription 2:1"),
            std::string::npos)
      << text;
}

TEST(Summary, TorusAndDisconnected) {
  TorusOptions t;
  t.dims = {4, 2};
  const ClusterSummary s = Summarize(MakeTorus(t).value());
  EXPECT_NE(FormatSummary(s).find("torus 4x2 (wraparound), 8 hosts"),
            std::string::npos)
      << FormatSummary(s);
  Cluster c;
  c.AddHost("a").value();
  c.AddHost("b").value();
  const ClusterSummary d = Summarize(c);
  EXPECT_EQ(d.components, 2);
  EXPECT_NE(FormatSummary(d).find("not connected: 2 separate pieces"),
            std::string::npos);
}

}  // namespace
}  // namespace dstrain::topology
