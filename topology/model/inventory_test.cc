#include "topology/model/inventory.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "topology/model/generators.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;

InventoryRecord Rec(std::string host, std::vector<std::string> path,
                    std::vector<int> coords = {}, int gpus = 8) {
  InventoryRecord r;
  r.hostname = std::move(host);
  r.switch_path = std::move(path);
  r.torus_coords = std::move(coords);
  r.gpus = gpus;
  return r;
}

TEST(Inventory, SwitchPathsBuildATree) {
  StatusOr<Cluster> c = ClusterFromInventory({
      Rec("a", {"leaf0", "spine0"}),
      Rec("b", {"leaf0", "spine0"}),
      Rec("c", {"leaf1", "spine0"}),
      Rec("d", {"leaf1", "spine0"}, {}, 4),
  });
  ASSERT_THAT(c, IsOk()) << c.status().message();
  EXPECT_EQ(c->fabric().kind, FabricKind::kFatTree);
  EXPECT_EQ(c->fabric().levels, 2);
  EXPECT_EQ(c->num_hosts(), 4);
  EXPECT_EQ(c->num_switches(), 3);
  EXPECT_EQ(c->num_links(), 6);  // 4 host links + 2 leaf-spine links
  EXPECT_EQ(c->total_devices(), 28);
  EXPECT_EQ(c->vertex(c->LeafOf(c->Find("c"))).name, "leaf1");
  EXPECT_EQ(c->Level(c->Find("spine0")), 1);
  EXPECT_THAT(c->CheckConnected(), IsOk());
}

TEST(Inventory, UpdatesAGeneratedClusterAndCatchesContradictions) {
  FatTreeOptions o;
  o.hosts = 4;
  o.k = 4;
  Cluster c = MakeFatTree(o).value();
  InventoryRecord r = Rec("node0", {"leaf0"}, {}, 0);
  DeviceInfo d;
  d.pci_bus_id = "0000:1b:00.0";
  d.numa_node = 0;
  r.devices = {d, d};
  r.devices[1].index = 1;
  ASSERT_THAT(ApplyInventory({r}, &c), IsOk());
  EXPECT_EQ(c.vertex(c.Find("node0")).host.devices, 2);
  EXPECT_EQ(c.vertex(c.Find("node0")).host.device_info[0].pci_bus_id,
            "0000:1b:00.0");
  EXPECT_EQ(c.num_links(), MakeFatTree(o).value().num_links());  // nothing new

  Status s = ApplyInventory({Rec("node0", {"leaf1"})}, &c);
  EXPECT_NE(s.message().find("reported under leaf `leaf1` but the cluster has "
                             "it under `leaf0`"),
            std::string::npos)
      << s.message();
  s = ApplyInventory({Rec("leaf0", {})}, &c);
  EXPECT_NE(s.message().find("that name is a switch"), std::string::npos);
  s = ApplyInventory({Rec("x", {"spine0", "leaf1"})}, &c);
  EXPECT_NE(s.message().find("not upwards"), std::string::npos) << s.message();
}

TEST(Inventory, TorusCoordinatesWireNeighbours) {
  std::vector<InventoryRecord> recs;
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 3; ++x)
      recs.push_back(
          Rec("t" + std::to_string(x) + std::to_string(y), {}, {x, y}));
  // Without known dims: a 3x3 mesh (no wraparound).
  StatusOr<Cluster> mesh = ClusterFromInventory(recs);
  ASSERT_THAT(mesh, IsOk()) << mesh.status().message();
  EXPECT_EQ(mesh->fabric().kind, FabricKind::kTorus);
  EXPECT_EQ(mesh->num_links(), 12);
  EXPECT_FALSE(mesh->fabric().torus_wrap[0]);
  // With known dims and wraparound: a 3x3 torus.
  InventoryOptions o;
  o.torus_dims = {3, 3};
  StatusOr<Cluster> torus = ClusterFromInventory(recs, o);
  ASSERT_THAT(torus, IsOk()) << torus.status().message();
  EXPECT_EQ(torus->num_links(), 18);
  for (VertexId h : torus->hosts()) EXPECT_EQ(torus->degree(h), 4);
  // A sub-block of a larger torus: only present neighbours are linked.
  o.torus_dims = {8, 8};
  StatusOr<Cluster> part = ClusterFromInventory(recs, o);
  ASSERT_THAT(part, IsOk());
  EXPECT_EQ(part->num_links(), 12);
  // Duplicate coordinates are refused.
  recs.push_back(Rec("dup", {}, {1, 1}));
  Status s = ClusterFromInventory(recs).status();
  EXPECT_NE(s.message().find("share torus coordinates (1,1)"),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace dstrain::topology
