// The planner over many random fabrics and allocations: every plan passes
// ValidatePlan (routes included), forced algorithms apply or say why not,
// ranges are contiguous, and plans carry the communicators they use.
#include "topology/planner/planner.h"

#include <gtest/gtest.h>

#include <random>

#include "common/contract/torus_parts.h"
#include "common/testing/status_matchers.h"
#include "topology/model/generators.h"
#include "topology/plan/testing/test_fabrics.h"
#include "topology/planner/validate.h"
#include "topology/sim/cost_model.h"
#include "topology/sim/simulator.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;

using testing::FabricFamily;

// A random fabric of each family in turn, an allocation on it (a box on
// half the tori), ranks per host and a placement.
struct RandomCase {
  testing::TestFabric fabric;
  std::vector<VertexId> alloc;
  PlanOptions options;
};

RandomCase DrawCase(std::mt19937_64& rng, int trial) {
  const FabricFamily families[] = {FabricFamily::kFatTree2,
                                   FabricFamily::kFatTree3, FabricFamily::kRail,
                                   FabricFamily::kTorus};
  const FabricFamily family = families[trial % 4];
  RandomCase rc{testing::RandomFabric(rng, family), {}, {}};
  const Cluster& c = rc.fabric.cluster;
  const bool box = family == FabricFamily::kTorus && trial % 8 < 4;
  rc.alloc =
      box ? testing::RandomBox(rng, c) : testing::RandomAllocation(rng, c);
  rc.options.ranks_per_node =
      testing::Draw(rng, 1, c.vertex(rc.alloc[0]).host.devices);
  const PlacementKind kinds[] = {PlacementKind::kAuto, PlacementKind::kHostname,
                                 PlacementKind::kRandom};
  rc.options.placement = kinds[trial % 3];
  return rc;
}

TEST(Planner, EveryPlanOnRandomFabricsPassesItsValidator) {
  std::mt19937_64 rng(101);
  for (int trial = 0; trial < 240; ++trial) {
    const RandomCase rc = DrawCase(rng, trial);
    const testing::TestFabric& f = rc.fabric;
    const Cluster& c = f.cluster;
    const std::vector<VertexId>& alloc = rc.alloc;
    PlanOptions options = rc.options;
    const auto plan = BuildPlan(c, alloc, options);
    ASSERT_THAT(plan, IsOk()) << f.spec << ": " << plan.status().ToString();
    const Status valid = ValidatePlan(c, *plan);
    EXPECT_THAT(valid, IsOk()) << f.spec << ": " << valid.ToString();
    EXPECT_EQ(plan->world_size(),
              static_cast<int32_t>(alloc.size()) * options.ranks_per_node);
    EXPECT_EQ(plan->algorithms.front().min_bytes, 0);
    EXPECT_EQ(plan->algorithms.back().max_bytes, -1);
    for (const AlgorithmRange& r : plan->algorithms) {
      if (r.algorithm == Algorithm::kHierarchical) {
        EXPECT_NE(plan->FindCommunicator("intra_node"), nullptr);
        EXPECT_NE(plan->FindCommunicator("inter_node"), nullptr);
      }
      if (r.algorithm == Algorithm::kTorus) {
        EXPECT_NE(plan->FindCommunicator("torus_p0_x"), nullptr) << f.spec;
      }
    }
    // Each algorithm that applies, forced, also makes a valid plan.
    for (Algorithm a : kAllAlgorithms) {
      options.algorithm = a;
      const auto forced = BuildPlan(c, alloc, options);
      if (!forced.ok()) {
        EXPECT_EQ(forced.status().code(), StatusCode::kFailedPrecondition)
            << f.spec << " " << AlgorithmName(a) << ": "
            << forced.status().ToString();
        continue;
      }
      EXPECT_THAT(ValidatePlan(c, *forced), IsOk())
          << f.spec << " " << AlgorithmName(a);
      ASSERT_EQ(forced->algorithms.size(), 1u);
      EXPECT_EQ(forced->algorithms[0].algorithm, a);
    }
  }
}

// The lower bound is a bound: on random fabrics, allocations, placements,
// ranks per host and intra-host bandwidths (slower than the network, too),
// no algorithm that applies is predicted faster than it at any size.
TEST(Planner, NoAlgorithmIsPredictedBelowTheFabricsLowerBound) {
  std::mt19937_64 rng(909);
  const double host_gbps[] = {5, 50, 450, 2000};
  const double sizes[] = {1, 1000, 1 << 20, 1 << 30, 17179869184.0};
  int checked = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const RandomCase rc = DrawCase(rng, trial);
    const testing::TestFabric& f = rc.fabric;
    const Cluster& c = f.cluster;
    const std::vector<VertexId>& alloc = rc.alloc;
    PlanOptions options = rc.options;
    options.seed = rng();
    options.sim.host_bandwidth =
        GBpsToBytesPerSecond(host_gbps[testing::Draw(rng, 0, 3)]);
    const auto plan = BuildPlan(c, alloc, options);
    ASSERT_THAT(plan, IsOk()) << f.spec << ": " << plan.status().ToString();
    const Router router = Router::Create(c).value();
    const SimOptions sim = SimOptionsFor(*plan, options.sim);
    const auto curves = EvaluateAlgorithms(c, router, *plan, sim);
    ASSERT_THAT(curves, IsOk()) << f.spec;
    const FabricCapacity capacity = FabricCapacityFor(
        c, RankMapFor(plan->placement.hosts, plan->ranks_per_node), sim);
    std::vector<double> at(std::begin(sizes), std::end(sizes));
    at.push_back(static_cast<double>(rng() % (uint64_t{1} << 32)) + 1);
    for (const AlgorithmCurve& a : *curves) {
      for (double S : at) {
        const double bound =
            CollectiveLowerBound(Collective::kAllReduce, capacity, S);
        EXPECT_GE(a.curve.Seconds(S), bound * (1 - 1e-12))
            << f.spec << ", " << alloc.size() << " hosts x "
            << plan->ranks_per_node << " ranks, placement "
            << plan->placement.method << ", host bandwidth "
            << sim.host_bandwidth << ": " << AlgorithmName(a.algorithm)
            << " at " << S << " bytes";
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 2000);
}

TEST(Planner, ForcedAlgorithmsSayWhyTheyDoNotApply) {
  FatTreeOptions o;
  o.hosts = 4;
  o.k = 4;
  o.devices_per_host = 1;
  const Cluster c = MakeFatTree(o).value();
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  PlanOptions options;
  options.algorithm = Algorithm::kHierarchical;
  EXPECT_EQ(BuildPlan(c, hosts, options).status().message(),
            "the hierarchical all-reduce needs several hosts of several ranks; "
            "this plan has 4 x 1");
  options.algorithm = Algorithm::kTorus;
  EXPECT_EQ(BuildPlan(c, hosts, options).status().code(),
            StatusCode::kFailedPrecondition);
  options.algorithm = Algorithm::kDoubleBinaryTree;
  const Plan tree = BuildPlan(c, hosts, options).value();
  ASSERT_EQ(tree.env.size(), 1u);
  EXPECT_EQ(tree.env[0],
            (std::pair<std::string, std::string>{"NCCL_ALGO", "Tree"}));
  EXPECT_EQ(tree.AlgorithmFor(1 << 30), Algorithm::kDoubleBinaryTree);
}

TEST(Planner, ParsesTheJobFilesAlgorithmChoice) {
  EXPECT_FALSE(ParseAlgorithmChoice("auto").value().has_value());
  EXPECT_EQ(ParseAlgorithmChoice("hierarchical").value(),
            Algorithm::kHierarchical);
  EXPECT_EQ(ParseAlgorithmChoice("double_binary_tree").value(),
            Algorithm::kDoubleBinaryTree);
  EXPECT_EQ(ParseAlgorithmChoice("trees").status().message(),
            "unknown algorithm `trees` (expected auto, ring, tree, rhd, "
            "hierarchical or torus)");
  for (Algorithm a : kAllAlgorithms)
    EXPECT_EQ(ParseAlgorithm(AlgorithmName(a)).value(), a);
}

TEST(Planner, TorusPlansCarryTheirLinesAndFatTreesTheirLeafOrder) {
  TorusOptions t;
  t.dims = {4, 4, 4};
  t.devices_per_host = 2;
  const Cluster torus = MakeTorus(t).value();
  std::vector<VertexId> all(torus.hosts().begin(), torus.hosts().end());
  PlanOptions options;
  options.algorithm = Algorithm::kTorus;
  const Plan p = BuildPlan(torus, all, options).value();
  // Six parts (x, y, z, each both ways), each with its host level and a
  // line per dimension.
  for (int part = 0; part < 6; ++part) {
    EXPECT_NE(p.FindCommunicator(contract::TorusPartLocalCommName(part)),
              nullptr)
        << part;
    for (int d = 0; d < 3; ++d) {
      EXPECT_NE(p.FindCommunicator(contract::TorusPartCommName(part, d)),
                nullptr)
          << part << " " << d;
    }
  }
  EXPECT_EQ(p.FindCommunicator("torus_p6_x"), nullptr);
  EXPECT_EQ(p.placement.non_neighbor_hops, 0);
  EXPECT_EQ(p.ranks.size(), 128u);
  EXPECT_EQ(p.ranks[2].node_id, torus.vertex(p.placement.hosts[1]).name);
  EXPECT_EQ(p.ranks[2].local_rank, 0);
}

TEST(Planner, RangesPickTheFastestCurve) {
  TorusOptions t;
  t.dims = {8, 8};
  t.devices_per_host = 1;
  const Cluster c = MakeTorus(t).value();
  std::vector<VertexId> all(c.hosts().begin(), c.hosts().end());
  const Plan plan = BuildPlan(c, all).value();
  const Router router = Router::Create(c).value();
  const auto curves =
      EvaluateAlgorithms(c, router, plan, SimOptionsFor(plan, {})).value();
  EXPECT_EQ(curves.size(), 4u);  // all but hierarchical (one rank per host)
  for (int64_t bytes = 1; bytes <= (int64_t{1} << 34); bytes *= 3) {
    const Algorithm chosen = plan.AlgorithmFor(bytes);
    double best = 1e300, got = 0;
    for (const auto& ac : curves) {
      const double s = ac.curve.Seconds(static_cast<double>(bytes));
      best = std::min(best, s);
      if (ac.algorithm == chosen) got = s;
    }
    EXPECT_LE(got, best * (1 + 1e-9)) << bytes;
  }
}

}  // namespace
}  // namespace dstrain::topology
