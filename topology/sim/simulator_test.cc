// The simulator against the closed forms where the fabric adds no
// contention (single uncontended rings over many random fabrics, the torus
// and hierarchical plans, the tree), contention where it does, the router's
// paths, and the busiest link.
#include "topology/sim/simulator.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "common/testing/status_matchers.h"
#include "topology/model/generators.h"
#include "topology/plan/double_binary_tree.h"
#include "topology/plan/hierarchical.h"
#include "topology/plan/placement.h"
#include "topology/plan/ring.h"
#include "topology/plan/testing/test_fabrics.h"
#include "topology/plan/torus_allreduce.h"
#include "topology/plan/torus_placement.h"
#include "topology/sim/cost_model.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;

constexpr double kTol = 1e-9;  // relative

CostCurve Sim(const Cluster& c, const Placement& p, int32_t g,
              const Schedule& s, const SimOptions& o = {}) {
  const Router router = Router::Create(c).value();
  auto curve = Simulate(c, router, RankMapFor(p.hosts, g), s, o);
  EXPECT_THAT(curve, IsOk()) << curve.status().ToString();
  return std::move(curve).value();
}

TEST(Simulator, UncontendedRingsMatchTheClosedFormOnRandomFatTrees) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    FatTreeOptions o;
    o.levels = trial % 2 ? 3 : 2;
    o.k = 2 * testing::Draw(rng, 2, 6);
    o.hosts = testing::Draw(rng, 2, o.levels == 2 ? o.k * o.k / 2 : 60);
    o.devices_per_host = testing::Draw(rng, 1, 8);
    o.latency = 1e-7 * testing::Draw(rng, 1, 9);
    o.nic_bandwidth = 1e9 * testing::Draw(rng, 5, 50);
    auto made = MakeFatTree(o);
    if (!made.ok()) continue;
    const Cluster& c = *made;
    std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
    const Placement p = Place(c, hosts).value();
    const int32_t g = o.devices_per_host;
    const int32_t n = static_cast<int32_t>(hosts.size()) * g;
    SimOptions so;
    so.host_bandwidth = 1e9 * testing::Draw(rng, 10, 500);
    const CostCurve curve = Sim(c, p, g, RingAllReduce(n, g), so);
    // Leaf-contiguous on a non-blocking tree: one flow per link direction.
    // The slowest hop crosses the highest level the allocation spans.
    std::set<VertexId> leaves, pods;
    for (VertexId h : hosts) {
      leaves.insert(c.LeafOf(h));
      VertexId pod = INT32_MAX;
      for (const Adjacent& a : c.neighbors(c.LeafOf(h)))
        if (c.IsSwitch(a.neighbor)) pod = std::min(pod, a.neighbor);
      pods.insert(pod);
    }
    const int links = pods.size() > 1 && o.levels == 3 ? 6
                      : leaves.size() > 1              ? 4
                                                       : 2;
    // A step waits for its slowest hop, intra-host hops included.
    const double alpha =
        std::max(so.message_overhead + links * o.latency,
                 g > 1 ? so.message_overhead + so.host_latency : 0.0);
    const double bw =
        g > 1 ? std::min(o.nic_bandwidth, so.host_bandwidth) : o.nic_bandwidth;
    for (double S : {8.0, 4096.0, 3e6, 1073741824.0}) {
      const double want = RingAllReduceTime(n, S, alpha, bw);
      EXPECT_NEAR(curve.Seconds(S), want, kTol * want)
          << "levels " << o.levels << " k " << o.k << " hosts " << o.hosts
          << " g " << g << " S " << S;
    }
  }
}

TEST(Simulator, UncontendedRingsMatchTheClosedFormOnTori) {
  std::mt19937_64 rng(9);
  int checked = 0;
  for (int trial = 0; trial < 100; ++trial) {
    TorusOptions o;
    const int nd = testing::Draw(rng, 2, 3);
    for (int d = 0; d < nd; ++d) o.dims.push_back(2 * testing::Draw(rng, 1, 4));
    o.devices_per_host = 1;
    o.latency = 1e-7 * testing::Draw(rng, 1, 9);
    const Cluster c = MakeTorus(o).value();
    std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
    const Placement p = Place(c, hosts).value();
    ASSERT_EQ(p.non_neighbor_hops, 0);
    if (!p.ring_closes_at_neighbor || hosts.size() < 3) continue;
    ++checked;
    const int32_t n = static_cast<int32_t>(hosts.size());
    const CostCurve curve = Sim(c, p, 1, RingAllReduce(n, 1));
    const double alpha = SimOptions{}.message_overhead + o.latency;
    for (double S : {8.0, 1e6, 1e9}) {
      const double want = RingAllReduceTime(n, S, alpha, o.link_bandwidth);
      EXPECT_NEAR(curve.Seconds(S), want, kTol * want);
    }
  }
  EXPECT_GT(checked, 50);
}

TEST(Simulator, A65536RankRingIsOneRoutedStepTimesTheSteps) {
  FatTreeOptions o;
  o.hosts = 8192;
  o.k = 32;
  o.levels = 3;
  o.devices_per_host = 8;
  const Cluster c = MakeFatTree(o).value();
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  const Placement p = Place(c, hosts).value();
  const Schedule ring = RingAllReduce(65536, 8);
  ASSERT_EQ(ring.phases.size(), 1u);
  EXPECT_EQ(ring.phases[0].transfers.size(), 65536u);  // one step's pattern
  const CostCurve curve = Sim(c, p, 8, ring);
  const SimOptions so;
  const double want = RingAllReduceTime(
      65536, 1 << 30, so.message_overhead + 6 * o.latency, o.nic_bandwidth);
  EXPECT_NEAR(curve.Seconds(1 << 30), want, kTol * want);
}

TEST(Simulator, HierarchicalTreeAndTorusMatchTheirClosedForms) {
  const SimOptions so;
  {
    // One leaf: inter-host hops cross it uncontended.
    FatTreeOptions o;
    o.hosts = 6;
    o.k = 12;
    o.devices_per_host = 4;
    const Cluster c = MakeFatTree(o).value();
    std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
    const Placement p = Place(c, hosts).value();
    const double a = so.message_overhead + 2 * o.latency;
    const double ah = so.message_overhead + so.host_latency;
    const CostCurve h = Sim(c, p, 4, HierarchicalAllReduce(6, 4));
    const CostCurve t = Sim(c, p, 4, DoubleBinaryTreeAllReduce(6, 4));
    TreeParams tp;
    tp.nodes = 6;
    tp.ranks_per_node = 4;
    tp.alpha = a;
    tp.bandwidth = o.nic_bandwidth;
    tp.host_alpha = ah;
    tp.host_bandwidth = so.host_bandwidth;
    tp.chunk_bytes = so.pipeline_chunk_bytes;
    for (double S : {64.0, 1e5, 1e9}) {
      const double hw = HierarchicalAllReduceTime(6, 4, S, a, o.nic_bandwidth,
                                                  ah, so.host_bandwidth);
      EXPECT_NEAR(h.Seconds(S), hw, kTol * hw) << S;
      const double tw = DoubleBinaryTreeTime(tp, S);
      EXPECT_NEAR(t.Seconds(S), tw, kTol * tw) << S;
    }
  }
  {
    // A full 4x4x4 torus of hosts of 2: the closed form (the link bound
    // plus the pipeline's fill) and no link over 100%.
    TorusOptions o;
    o.dims = {4, 4, 4};
    o.devices_per_host = 2;
    const Cluster c = MakeTorus(o).value();
    std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
    const Placement p = Place(c, hosts).value();
    const TorusLayout layout = TorusLayoutOf(c, p).value();
    const CostCurve curve = Sim(c, p, 2, TorusAllReduce(layout, 2));
    for (double S : {64.0, 1e5, 1e9}) {
      const double want = TorusAllReduceTime(
          3, 4, 2, S, so.message_overhead + o.latency, o.link_bandwidth,
          so.message_overhead + so.host_latency, so.host_bandwidth,
          so.pipeline_chunk_bytes);
      EXPECT_NEAR(curve.Seconds(S), want, kTol * want) << S;
      EXPECT_LE(curve.hottest.busy_seconds_per_byte * S,
                curve.Seconds(S) * (1 + 1e-12));
    }
  }
}

TEST(Simulator, OversubscriptionPunishesRandomOrder) {
  FatTreeOptions o;
  o.hosts = 128;
  o.k = 24;
  o.levels = 3;
  o.oversubscription = 2;
  o.devices_per_host = 4;
  const Cluster c = MakeFatTree(o).value();
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  const Placement leafwise = Place(c, hosts, PlacementKind::kFatTree).value();
  const Placement random = Place(c, hosts, PlacementKind::kRandom, 3).value();
  const Schedule ring = RingAllReduce(512, 4);
  const CostCurve good = Sim(c, leafwise, 4, ring);
  const CostCurve bad = Sim(c, random, 4, ring);
  EXPECT_GT(bad.Seconds(1 << 30), 1.5 * good.Seconds(1 << 30));
  // The plan's busiest link is a host's own; random order's is a switch
  // uplink.
  EXPECT_TRUE(c.IsHost(c.Find(good.hottest.from)) ||
              c.IsHost(c.Find(good.hottest.to)))
      << good.hottest.from << " -> " << good.hottest.to;
  EXPECT_TRUE(c.IsSwitch(c.Find(bad.hottest.from)) &&
              c.IsSwitch(c.Find(bad.hottest.to)))
      << bad.hottest.from << " -> " << bad.hottest.to;
  const Prediction pr =
      Predict(bad, Collective::kAllReduce, 1 << 30,
              FabricCapacityFor(c, RankMapFor(random.hosts, 4), {}));
  EXPECT_GT(pr.hottest_utilization, 0.5);
  EXPECT_LE(pr.hottest_utilization, 1.0 + 1e-9);
  EXPECT_LT(pr.busbw, o.nic_bandwidth);
}

// The capacities the lower bound uses: every host's links, and the ports
// of ranks that share a host.
TEST(Simulator, FabricCapacityCountsHostsLinksAndSharedPorts) {
  FatTreeOptions o;
  o.hosts = 4;
  o.k = 4;
  o.levels = 2;
  o.devices_per_host = 2;
  o.nics_per_host = 2;
  const Cluster c = MakeFatTree(o).value();
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  SimOptions sim;
  sim.host_bandwidth = 100e9;
  const FabricCapacity two = FabricCapacityFor(c, RankMapFor(hosts, 2), sim);
  EXPECT_EQ(two.hosts, 4);
  EXPECT_EQ(two.ranks, 8);
  EXPECT_DOUBLE_EQ(two.min_host_bandwidth, 2 * o.nic_bandwidth);
  EXPECT_DOUBLE_EQ(two.network_bandwidth, 4 * 2 * o.nic_bandwidth);
  EXPECT_DOUBLE_EQ(two.rank_port_bandwidth, 100e9);
  EXPECT_DOUBLE_EQ(two.intra_bandwidth, 8 * 100e9);
  const FabricCapacity one = FabricCapacityFor(c, RankMapFor(hosts, 1), sim);
  EXPECT_EQ(one.ranks, 4);
  EXPECT_EQ(one.rank_port_bandwidth, 0);
  EXPECT_EQ(one.intra_bandwidth, 0);
  // The prediction carries the fabric's bound, not a per-rank one.
  const Placement p = Place(c, hosts, PlacementKind::kFatTree).value();
  const CostCurve ring = Sim(c, p, 2, RingAllReduce(8, 2), sim);
  const Prediction pr = Predict(ring, Collective::kAllReduce, 1 << 30, two);
  EXPECT_DOUBLE_EQ(pr.lower_bound_seconds,
                   CollectiveLowerBound(Collective::kAllReduce, two, 1 << 30));
  EXPECT_GE(pr.seconds, pr.lower_bound_seconds);
}

TEST(Router, UpDownPathsAreChainsAndEcmpSpreads) {
  FatTreeOptions o;
  o.hosts = 64;
  o.k = 8;
  o.levels = 3;
  const Cluster c = MakeFatTree(o).value();
  const Router r = Router::Create(c).value();
  EXPECT_EQ(r.mode(), Router::Mode::kUpDown);
  std::set<LinkId> first_uplinks;
  std::vector<Hop> hops;
  for (VertexId a : c.hosts()) {
    for (VertexId b : c.hosts()) {
      if (a == b) continue;
      hops.clear();
      ASSERT_THAT(r.Route(a, 0, b, 0, &hops), IsOk());
      VertexId at = a;
      for (const Hop& h : hops) {
        const Link& l = c.link(h.link);
        ASSERT_EQ(h.forward ? l.a : l.b, at);
        at = h.forward ? l.b : l.a;
      }
      EXPECT_EQ(at, b);
      const bool same_leaf = c.LeafOf(a) == c.LeafOf(b);
      EXPECT_EQ(hops.size(), same_leaf ? 2u : (hops.size() == 4 ? 4u : 6u));
      std::vector<Hop> again;
      ASSERT_THAT(r.Route(a, 0, b, 0, &again), IsOk());
      EXPECT_EQ(again.size(), hops.size());
      for (size_t i = 0; i < hops.size(); ++i)
        EXPECT_EQ(again[i].link, hops[i].link);
      if (a == c.hosts()[0] && !same_leaf) first_uplinks.insert(hops[1].link);
    }
  }
  EXPECT_GT(first_uplinks.size(), 1u);  // different pairs, different uplinks
}

TEST(Router, DimensionOrderTakesTheShortWayAround) {
  TorusOptions o;
  o.dims = {8, 5};
  const Cluster c = MakeTorus(o).value();
  const Router r = Router::Create(c).value();
  EXPECT_EQ(r.mode(), Router::Mode::kDimensionOrder);
  std::vector<Hop> hops;
  const VertexId a = c.HostAtCoords(std::vector{1, 0});
  const VertexId b = c.HostAtCoords(std::vector{7, 4});
  ASSERT_THAT(r.Route(a, 0, b, 0, &hops), IsOk());
  EXPECT_EQ(hops.size(), 3u);  // x: 1 -> 0 -> 7, y: 0 -> 4 (wrap)
  const Link& first = c.link(hops[0].link);
  EXPECT_EQ(first.Other(a), c.HostAtCoords(std::vector{0, 0}));
}

TEST(Simulator, RejectsRanksOutsideThePlacement) {
  TorusOptions o;
  o.dims = {2, 2};
  const Cluster c = MakeTorus(o).value();
  const Router r = Router::Create(c).value();
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  const auto got =
      Simulate(c, r, RankMapFor(hosts, 1), RingAllReduce(9, 1), SimOptions{});
  EXPECT_EQ(got.status().message(),
            "schedule `ring` has 9 ranks; the placement has 4");
}

}  // namespace
}  // namespace dstrain::topology
