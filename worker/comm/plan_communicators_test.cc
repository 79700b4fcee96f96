// The plan's sub-communicators over real Gloo (threads of this process, one
// rank each, TCP on 127.0.0.1): the colours and keys come from the planner
// itself (topology/plan), Split builds the groups, and the hierarchical and
// torus all-reduces agree with the flat one.
#include "worker/comm/plan_communicators.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>
#include <vector>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "topology/model/generators.h"
#include "topology/planner/planner.h"
#include "worker/comm/gloo_communicator.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using contract::SubCommunicator;

// A route table from its text form.
std::vector<GradRoute> Routes(const char* text) {
  return ParseGradRoutes(text).value();
}

// Every rank's part of the plan, as the agent hands it out.
std::vector<std::vector<SubCommunicator>> Specs(const topology::Plan& plan) {
  std::vector<std::vector<SubCommunicator>> out(plan.world_size());
  for (const topology::SubCommunicator& c : plan.communicators)
    for (int r = 0; r < plan.world_size(); ++r)
      out[r].push_back({c.name, c.color[r], c.key[r]});
  return out;
}

topology::Plan HierarchicalPlan(int hosts, int g) {
  topology::FatTreeOptions o;
  o.hosts = hosts;
  o.k = 4;
  o.devices_per_host = g;
  static topology::Cluster cluster;
  cluster = topology::MakeFatTree(o).value();
  topology::PlanOptions p;
  p.algorithm = topology::Algorithm::kHierarchical;
  std::vector<topology::VertexId> all(cluster.hosts().begin(),
                                      cluster.hosts().end());
  return topology::BuildPlan(cluster, all, p).value();
}

topology::Plan TorusPlan(std::vector<int> dims, int g) {
  topology::TorusOptions o;
  o.dims = std::move(dims);
  o.devices_per_host = g;
  static topology::Cluster cluster;
  cluster = topology::MakeTorus(o).value();
  topology::PlanOptions p;
  p.algorithm = topology::Algorithm::kTorus;
  std::vector<topology::VertexId> all(cluster.hosts().begin(),
                                      cluster.hosts().end());
  return topology::BuildPlan(cluster, all, p).value();
}

// Runs body(rank, world) on world_size threads, each with its own Gloo
// communicator over one in-memory store.
void OnRanks(int world_size,
             const std::function<void(int, Communicator&)>& body) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  comm::GlooOptions opts;
  opts.timeout = std::chrono::seconds(60);
  std::vector<std::thread> threads;
  for (int r = 0; r < world_size; ++r) {
    threads.emplace_back([&, r] {
      auto c = comm::CreateGlooCommunicator(store, r, world_size, opts);
      ASSERT_THAT(c, IsOk()) << c.status().ToString();
      body(r, **c);
      // Nobody closes connections while a peer may still use them.
      ASSERT_THAT(Await((*c)->Barrier()), IsOk());
    });
  }
  for (std::thread& t : threads) t.join();
}

// Flat vs composed, fp32, over several lengths (some not divisible by the
// levels' sizes), plus kAvg, kMax and an integer sum.
void CheckParity(const topology::Plan& plan, const char* algorithm) {
  const auto specs = Specs(plan);
  OnRanks(plan.world_size(), [&](int r, Communicator& world) {
    auto subs = PlanCommunicators::Build(world, specs[r]);
    ASSERT_THAT(subs, IsOk()) << subs.status().ToString();
    auto composed = PlanAllReduce(world, *subs, Routes(algorithm));
    ASSERT_THAT(composed, IsOk()) << composed.status().ToString();
    EXPECT_EQ((*composed)->backend(), "gloo+" + std::string(algorithm));
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(100 + r);
    for (int64_t n : {0, 1, 3, 7, 1000, 4099, 65536}) {
      at::Tensor x = at::rand({n}, gen, at::kFloat) + 0.5;
      at::Tensor flat = x.clone();
      at::Tensor mine = x.clone();
      ASSERT_THAT(Await(world.AllReduce(flat, ReduceOp::kSum)), IsOk());
      ASSERT_THAT(Await((*composed)->AllReduce(mine, ReduceOp::kSum)), IsOk());
      if (n > 0) {
        const double rel =
            ((mine - flat).abs() / flat.abs()).max().item<double>();
        EXPECT_LE(rel, 1e-6) << algorithm << " n=" << n << " rank " << r;
      }
      at::Tensor avg = x.clone();
      at::Tensor mx = x.clone();
      ASSERT_THAT(Await((*composed)->AllReduce(avg, ReduceOp::kAvg)), IsOk());
      ASSERT_THAT(Await((*composed)->AllReduce(mx, ReduceOp::kMax)), IsOk());
      at::Tensor flat_max = x.clone();
      ASSERT_THAT(Await(world.AllReduce(flat_max, ReduceOp::kMax)), IsOk());
      if (n > 0) {
        EXPECT_LE(((avg - flat / plan.world_size()).abs() / avg.abs())
                      .max()
                      .item<double>(),
                  1e-6);
        EXPECT_TRUE(at::equal(mx, flat_max));
      }
    }
    // Integers: exact, and the 2-D shape is kept.
    at::Tensor ints = at::full({3, 5}, r + 1, at::kInt);
    ASSERT_THAT(Await((*composed)->AllReduce(ints, ReduceOp::kSum)), IsOk());
    const int n = plan.world_size();
    EXPECT_TRUE(at::equal(ints, at::full({3, 5}, n * (n + 1) / 2, at::kInt)));
  });
}

TEST(PlanCommunicators, SplitBuildsThePlansGroups) {
  // 2 hosts x 2 ranks: intra_node {0,1} {2,3}; inter_node {0,2} {1,3}.
  const topology::Plan plan = HierarchicalPlan(2, 2);
  const auto specs = Specs(plan);
  std::vector<std::vector<std::string>> lines(4);
  OnRanks(4, [&](int r, Communicator& world) {
    auto subs = PlanCommunicators::Build(world, specs[r]);
    ASSERT_THAT(subs, IsOk()) << subs.status().ToString();
    auto d = subs->Describe(r);
    ASSERT_THAT(d, IsOk()) << d.status().ToString();
    lines[r] = *d;
  });
  EXPECT_EQ(lines[0], (std::vector<std::string>{
                          "sub-communicator intra_node: group of 2, world "
                          "ranks [0, 1]",
                          "sub-communicator inter_node: group of 2, world "
                          "ranks [0, 2]"}));
  EXPECT_EQ(lines[3], (std::vector<std::string>{
                          "sub-communicator intra_node: group of 2, world "
                          "ranks [2, 3]",
                          "sub-communicator inter_node: group of 2, world "
                          "ranks [1, 3]"}));
}

TEST(PlanCommunicators, HierarchicalAllReduceMatchesTheFlatOne) {
  CheckParity(HierarchicalPlan(2, 2), "hierarchical");
  CheckParity(HierarchicalPlan(3, 2), "hierarchical");
}

// The torus all-reduce's parts (x+ and y+ on 2x2, with a host level at
// 2 ranks a host; x+, y+, z+ on 2x2x2; x±, y± on 3x3) over real
// Gloo sub-communicators, concurrently; CheckParity's lengths include ones
// shorter than the part count and ones no level's size divides.
TEST(PlanCommunicators, TorusAllReduceMatchesTheFlatOne) {
  CheckParity(TorusPlan({2, 2}, 1), "torus");
  CheckParity(TorusPlan({2, 2}, 2), "torus");
  CheckParity(TorusPlan({2, 2, 2}, 1), "torus");
  CheckParity(TorusPlan({3, 3}, 1), "torus");
}

TEST(PlanCommunicators, TorusPartsRunTheirRingsBothWays) {
  // On a 3x3 torus parts 0 and 1 start along x, + and -: the - part's
  // group is keyed against the coordinate, so its ring runs the other way.
  const topology::Plan plan = TorusPlan({3, 3}, 1);
  const auto specs = Specs(plan);
  std::vector<std::vector<std::string>> lines(9);
  OnRanks(9, [&](int r, Communicator& world) {
    auto subs = PlanCommunicators::Build(world, specs[r]);
    ASSERT_THAT(subs, IsOk()) << subs.status().ToString();
    auto d = subs->Describe(r);
    ASSERT_THAT(d, IsOk()) << d.status().ToString();
    lines[r] = *d;
  });
  // Rank 0's x lines of parts 0 (x+) and 1 (x-): the same hosts, the
  // second in the reverse cyclic order.
  auto group = [&](const std::string& name) {
    for (const std::string& l : lines[0])
      if (l.find("sub-communicator " + name + ":") == 0) return l;
    return std::string("none");
  };
  const std::string plus = group("torus_p0_x");
  const std::string minus = group("torus_p1_x");
  ASSERT_NE(plus, "none");
  ASSERT_NE(minus, "none");
  const auto ranks = [](const std::string& l) {
    std::vector<int> out;
    std::string list = l.substr(l.find('[') + 1);
    for (std::size_t at = 0; at < list.size();) {
      out.push_back(std::stoi(list.substr(at)));
      at = list.find(", ", at);
      if (at == std::string::npos) break;
      at += 2;
    }
    return out;
  };
  const std::vector<int> p = ranks(plus), m = ranks(minus);
  ASSERT_EQ(p.size(), 3u);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m, (std::vector<int>{p[0], p[2], p[1]}));
}

// A table that sends middle sizes through the hierarchy and the rest over
// the world: CheckParity's lengths fall on both sides of both bounds
// (fp32: 4 and 28 bytes world, 4000 and 16396 hierarchical, 262144 world).
TEST(PlanCommunicators, RoutedAllReduceMatchesTheFlatOneOnEveryRoute) {
  CheckParity(HierarchicalPlan(2, 2), "world@0,hierarchical@1024,world@65536");
  CheckParity(TorusPlan({2, 2}, 2), "torus@0,world@100000");
}

TEST(PlanCommunicators, RefusesPlansWithoutTheirCommunicators) {
  OnRanks(1, [&](int, Communicator& world) {
    auto none = PlanCommunicators::Build(world, {}).value();
    EXPECT_EQ(
        PlanAllReduce(world, none, Routes("hierarchical")).status().message(),
        "the hierarchical all-reduce needs sub-communicator "
        "`intra_node`, which this rank's plan lacks");
    EXPECT_THAT(PlanAllReduce(world, none, Routes("torus")), Not(IsOk()));
    EXPECT_EQ(ParseGradRoutes("ring").status().message(),
              "gradient all-reduce route `ring`: expected world, "
              "hierarchical or torus");
    EXPECT_THAT(PlanAllReduce(world, none, Routes("world@0,torus@64")),
                Not(IsOk()));
    // Every size over the world: nothing to compose.
    auto world_only = PlanAllReduce(world, none, Routes("world"));
    ASSERT_THAT(world_only, IsOk());
    EXPECT_EQ(*world_only, nullptr);
  });
}

}  // namespace
}  // namespace dstrain::comm
