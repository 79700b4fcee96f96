// Placement: the baselines, fat-tree leaf contiguity (one spine crossing per
// leaf) and torus snakes (all hops neighbours on boxes) over many random
// fabrics and allocations, and the errors.
#include "topology/plan/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "common/testing/status_matchers.h"
#include "topology/model/generators.h"
#include "topology/plan/baseline_placement.h"
#include "topology/plan/testing/test_fabrics.h"
#include "topology/plan/torus_placement.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;

HostInfo Devices(int n) {
  HostInfo h;
  h.devices = n;
  return h;
}

using testing::FabricFamily;

void ExpectPermutationOf(const std::vector<VertexId>& got,
                         const std::vector<VertexId>& want,
                         const std::string& spec) {
  std::vector<VertexId> a = got, b = want;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b) << spec;
}

TEST(NaturalLess, NumbersCompareAsNumbers) {
  EXPECT_TRUE(NaturalLess("node2", "node10"));
  EXPECT_FALSE(NaturalLess("node10", "node2"));
  EXPECT_TRUE(NaturalLess("gpu-001", "gpu-002"));
  EXPECT_TRUE(NaturalLess("a9b", "a10a"));
  EXPECT_TRUE(NaturalLess("a1", "a01"));  // equal values: fewer zeros first
  EXPECT_FALSE(NaturalLess("a1", "a1"));
  EXPECT_TRUE(NaturalLess("a", "a1"));
  EXPECT_TRUE(NaturalLess("rack1-n9", "rack2-n1"));
}

Cluster ThreeHosts() {
  Cluster c;
  c.set_name("three");
  const VertexId leaf = c.AddSwitch("leaf", {}).value();
  for (const char* name : {"node10", "node2", "node1"}) {
    const VertexId h = c.AddHost(name, Devices(2)).value();
    EXPECT_THAT(c.AddLink(h, leaf), IsOk());
  }
  return c;
}

TEST(BaselinePlacement, HostnameOrderIsNatural) {
  const Cluster c = ThreeHosts();
  const std::vector<VertexId> hosts = {c.Find("node10"), c.Find("node2"),
                                       c.Find("node1")};
  const Placement p = PlaceByHostname(c, hosts).value();
  EXPECT_EQ(p.hosts, (std::vector<VertexId>{c.Find("node1"), c.Find("node2"),
                                            c.Find("node10")}));
  EXPECT_EQ(p.kind, PlacementKind::kHostname);
  EXPECT_EQ(p.non_neighbor_hops, -1);
}

TEST(BaselinePlacement, RandomIsSeededAndIndependentOfInputOrder) {
  FatTreeOptions o;
  o.hosts = 64;
  o.k = 16;
  auto made = MakeFatTree(o);
  ASSERT_THAT(made, IsOk()) << made.status().ToString();
  const Cluster& c = *made;
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  const Placement a = PlaceRandom(c, hosts, 7).value();
  std::reverse(hosts.begin(), hosts.end());
  const Placement b = PlaceRandom(c, hosts, 7).value();
  const Placement other = PlaceRandom(c, hosts, 8).value();
  EXPECT_EQ(a.hosts, b.hosts);
  EXPECT_NE(a.hosts, other.hosts);
  ExpectPermutationOf(a.hosts, hosts, "random");
  EXPECT_NE(a.hosts, PlaceByHostname(c, hosts).value().hosts);
  EXPECT_EQ(a.method, "random (seed 7)");
}

TEST(Placement, UnknownFabricsOrderByLeafWhenHostsHangOffLeaves) {
  Cluster c;
  const VertexId spine = c.AddSwitch("spine", SwitchInfo{1, -1}).value();
  const VertexId l0 = c.AddSwitch("l0", {}).value();
  const VertexId l1 = c.AddSwitch("l1", {}).value();
  ASSERT_THAT(c.AddLink(l0, spine), IsOk());
  ASSERT_THAT(c.AddLink(l1, spine), IsOk());
  // Names interleave the leaves: n1, n3 under l0; n2, n4 under l1.
  for (int i = 1; i <= 4; ++i) {
    const VertexId h = c.AddHost("n" + std::to_string(i), Devices(1)).value();
    ASSERT_THAT(c.AddLink(h, i % 2 ? l0 : l1), IsOk());
  }
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  const Placement p = Place(c, hosts).value();
  EXPECT_EQ(p.kind, PlacementKind::kFatTree);
  EXPECT_EQ(p.hosts, (std::vector<VertexId>{c.Find("n1"), c.Find("n3"),
                                            c.Find("n2"), c.Find("n4")}));
  // A flat list of machines: names.
  Cluster bare;
  for (const char* n : {"b2", "b10", "b1"})
    ASSERT_THAT(bare.AddHost(n, Devices(1)), IsOk());
  std::vector<VertexId> all(bare.hosts().begin(), bare.hosts().end());
  EXPECT_EQ(Place(bare, all).value().kind, PlacementKind::kHostname);
}

TEST(Placement, RejectsBadAllocations) {
  const Cluster c = ThreeHosts();
  const VertexId h = c.Find("node1");
  EXPECT_EQ(Place(c, {}).status().message(), "no hosts to place");
  const std::vector<VertexId> twice = {h, h};
  EXPECT_EQ(Place(c, twice).status().message(),
            "host `node1` is allocated twice");
  const std::vector<VertexId> sw = {c.Find("leaf")};
  EXPECT_EQ(Place(c, sw).status().message(), "`leaf` is a switch, not a host");
  const std::vector<std::string> names = {"node1", "node7"};
  EXPECT_EQ(ResolveHosts(c, names).status().message(),
            "host `node7` is not in cluster `three`");
  EXPECT_EQ(ParsePlacementKind("snake").status().message(),
            "unknown placement `snake` (expected auto, fat-tree, rail, torus, "
            "hostname or random)");
  EXPECT_EQ(ParsePlacementKind("torus").value(), PlacementKind::kTorusSnake);
}

// Count the ring's hops (closing hop included) whose ends differ in `key`.
template <typename Key>
int CrossingHops(const std::vector<VertexId>& ring, Key key) {
  int n = 0;
  for (size_t i = 0; i < ring.size(); ++i)
    if (key(ring[i]) != key(ring[(i + 1) % ring.size()])) ++n;
  return n;
}

TEST(FatTreePlacement, CrossesTheSpineOncePerLeafOnRandomFabrics) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 300; ++trial) {
    const auto family =
        trial % 2 ? FabricFamily::kFatTree3 : FabricFamily::kFatTree2;
    const testing::TestFabric f = testing::RandomFabric(rng, family);
    const Cluster& c = f.cluster;
    const std::vector<VertexId> alloc = testing::RandomAllocation(rng, c);
    const Placement p = Place(c, alloc).value();
    ASSERT_EQ(p.kind, PlacementKind::kFatTree) << f.spec;
    ExpectPermutationOf(p.hosts, alloc, f.spec);
    auto leaf = [&](VertexId h) { return c.LeafOf(h); };
    std::set<VertexId> leaves;
    for (VertexId h : alloc) leaves.insert(leaf(h));
    // Every leaf's hosts are consecutive: the ring leaves each leaf once.
    const int leaf_hops = CrossingHops(p.hosts, leaf);
    EXPECT_EQ(leaf_hops,
              leaves.size() > 1 ? static_cast<int>(leaves.size()) : 0)
        << f.spec;
    if (family == FabricFamily::kFatTree3) {
      // ... and each pod once: a pod is the set of aggregation switches
      // above a leaf.
      auto pod = [&](VertexId h) {
        VertexId first = INT32_MAX;
        for (const Adjacent& adj : c.neighbors(leaf(h)))
          if (c.IsSwitch(adj.neighbor)) first = std::min(first, adj.neighbor);
        return first;
      };
      std::set<VertexId> pods;
      for (VertexId h : alloc) pods.insert(pod(h));
      EXPECT_EQ(CrossingHops(p.hosts, pod),
                pods.size() > 1 ? static_cast<int>(pods.size()) : 0)
          << f.spec;
    }
    // Within a leaf, hosts are in natural name order.
    for (size_t i = 0; i + 1 < p.hosts.size(); ++i) {
      if (leaf(p.hosts[i]) == leaf(p.hosts[i + 1])) {
        EXPECT_TRUE(NaturalLess(c.vertex(p.hosts[i]).name,
                                c.vertex(p.hosts[i + 1]).name))
            << f.spec;
      }
    }
  }
}

TEST(RailPlacement, KeepsRailGroupsTogetherAndSetsCrossNic) {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 100; ++trial) {
    const testing::TestFabric f =
        testing::RandomFabric(rng, FabricFamily::kRail);
    const Cluster& c = f.cluster;
    const std::vector<VertexId> alloc = testing::RandomAllocation(rng, c);
    const Placement p = Place(c, alloc).value();
    ASSERT_EQ(p.kind, PlacementKind::kRailOptimized) << f.spec;
    ExpectPermutationOf(p.hosts, alloc, f.spec);
    ASSERT_EQ(p.env.size(), 1u);
    EXPECT_EQ(p.env[0].first, "NCCL_CROSS_NIC");
    EXPECT_EQ(p.env[0].second, "0");
    for (int rail = 0; rail < c.fabric().rails; ++rail) {
      std::set<VertexId> leaves;
      for (VertexId h : alloc) leaves.insert(c.LeafOf(h, rail));
      auto leaf = [&](VertexId h) { return c.LeafOf(h, rail); };
      EXPECT_EQ(CrossingHops(p.hosts, leaf),
                leaves.size() > 1 ? static_cast<int>(leaves.size()) : 0)
          << f.spec << " rail " << rail;
    }
  }
}

TEST(SnakeCoords, VisitsEveryPositionOnceByUnitSteps) {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int> extent(testing::Draw(rng, 1, 4));
    int64_t volume = 1;
    for (int& e : extent) volume *= (e = testing::Draw(rng, 1, 7));
    std::set<std::vector<int>> seen;
    std::vector<int> prev;
    for (int64_t i = 0; i < volume; ++i) {
      const std::vector<int> c = SnakeCoords(i, extent);
      for (size_t d = 0; d < c.size(); ++d) {
        ASSERT_GE(c[d], 0);
        ASSERT_LT(c[d], extent[d]);
      }
      EXPECT_TRUE(seen.insert(c).second);
      if (i > 0) {
        int moved = 0;
        for (size_t d = 0; d < c.size(); ++d) moved += std::abs(c[d] - prev[d]);
        EXPECT_EQ(moved, 1) << "step " << i;
      }
      prev = c;
    }
    EXPECT_EQ(static_cast<int64_t>(seen.size()), volume);
  }
}

TEST(TorusPlacement, WholeToriAreSnakesOfNeighbours) {
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 100; ++trial) {
    const testing::TestFabric f =
        testing::RandomFabric(rng, FabricFamily::kTorus);
    const Cluster& c = f.cluster;
    std::vector<VertexId> all(c.hosts().begin(), c.hosts().end());
    const Placement p = Place(c, all).value();
    ASSERT_EQ(p.kind, PlacementKind::kTorusSnake) << f.spec;
    EXPECT_EQ(p.method, "snake") << f.spec;
    ExpectPermutationOf(p.hosts, all, f.spec);
    EXPECT_EQ(p.non_neighbor_hops, 0) << f.spec;
    EXPECT_EQ(p.box_extent, c.fabric().torus_dims) << f.spec;
  }
}

TEST(TorusPlacement, EvenWrappedToriCloseTheRingAtANeighbour) {
  for (const std::vector<int>& dims :
       {std::vector<int>{16, 16, 16}, {4, 6}, {2, 4, 8}, {8, 2}}) {
    TorusOptions o;
    o.dims = dims;
    const Cluster c = MakeTorus(o).value();
    std::vector<VertexId> all(c.hosts().begin(), c.hosts().end());
    const Placement p = PlaceTorusSnake(c, all).value();
    EXPECT_EQ(p.non_neighbor_hops, 0);
    EXPECT_TRUE(p.ring_closes_at_neighbor) << dims.size();
  }
}

TEST(TorusPlacement, SubBlocksAreSnakesOfNeighbours) {
  std::mt19937_64 rng(23);
  for (int trial = 0; trial < 300; ++trial) {
    const testing::TestFabric f =
        testing::RandomFabric(rng, FabricFamily::kTorus);
    const Cluster& c = f.cluster;
    const std::vector<VertexId> box = testing::RandomBox(rng, c);
    const Placement p = Place(c, box).value();
    EXPECT_EQ(p.method, "snake") << f.spec;
    ExpectPermutationOf(p.hosts, box, f.spec);
    EXPECT_EQ(p.non_neighbor_hops, 0) << f.spec;
    int64_t volume = 1;
    for (int e : p.box_extent) volume *= e;
    EXPECT_EQ(volume, static_cast<int64_t>(box.size())) << f.spec;
  }
}

TEST(TorusPlacement, IrregularAllocationsWalkGreedilyAndCountTheJumps) {
  std::mt19937_64 rng(29);
  int walks = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const testing::TestFabric f =
        testing::RandomFabric(rng, FabricFamily::kTorus);
    const Cluster& c = f.cluster;
    const std::vector<VertexId> alloc = testing::RandomAllocation(rng, c);
    const Placement p = Place(c, alloc).value();
    ExpectPermutationOf(p.hosts, alloc, f.spec);
    int jumps = 0;
    for (size_t i = 0; i + 1 < p.hosts.size(); ++i)
      if (c.LinkBetween(p.hosts[i], p.hosts[i + 1]) == kNoLink) ++jumps;
    EXPECT_EQ(p.non_neighbor_hops, jumps) << f.spec;
    EXPECT_EQ(p.ring_closes_at_neighbor,
              p.hosts.size() == 1 ||
                  c.LinkBetween(p.hosts.back(), p.hosts.front()) != kNoLink)
        << f.spec;
    if (p.method == "greedy walk") {
      ++walks;
      EXPECT_TRUE(p.box_extent.empty());
    }
  }
  EXPECT_GT(walks, 100);
}

TEST(TorusPlacement, GreedyWalkFindsTheHamiltonianPathOfAnLShape) {
  // An L of two 4x2 blocks on an 8x8 torus: a path through all 12 hosts by
  // neighbours exists; Warnsdorff's rule finds it.
  TorusOptions o;
  o.dims = {8, 8};
  o.wraparound = false;
  const Cluster c = MakeTorus(o).value();
  std::vector<VertexId> alloc;
  for (int x = 0; x < 4; ++x)
    for (int y = 0; y < 2; ++y)
      alloc.push_back(c.HostAtCoords(std::vector{x, y}));
  for (int x = 0; x < 2; ++x)
    for (int y = 2; y < 4; ++y)
      alloc.push_back(c.HostAtCoords(std::vector{x, y}));
  const Placement p = PlaceTorusSnake(c, alloc).value();
  EXPECT_EQ(p.method, "greedy walk");
  EXPECT_EQ(p.non_neighbor_hops, 0);
}

TEST(TorusPlacement, NeedsCoordinates) {
  const Cluster c = ThreeHosts();
  const std::vector<VertexId> hosts = {c.Find("node1")};
  EXPECT_EQ(PlaceTorusSnake(c, hosts).status().message(),
            "cluster `three` has no torus dimensions (torus placement)");
}

}  // namespace
}  // namespace dstrain::topology
