// Property tests over many random generated fabrics: each one validates, is
// connected, has the degrees its generator promises, and (on complete
// fat-trees) a bisection bandwidth, measured by max-flow, that matches its
// oversubscription.
#include "topology/model/generators.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <random>

#include "common/testing/status_matchers.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

// Dinic's max-flow over the cluster's links (each direction carries up to
// the link's bandwidth), from every host of `a` to every host of `b`.
class MaxFlow {
 public:
  explicit MaxFlow(int n) : head_(n, -1), level_(n), it_(n) {}
  void AddEdge(int u, int v, double cap_uv, double cap_vu) {
    edges_.push_back({v, head_[u], cap_uv});
    head_[u] = static_cast<int>(edges_.size()) - 1;
    edges_.push_back({u, head_[v], cap_vu});
    head_[v] = static_cast<int>(edges_.size()) - 1;
  }
  double Run(int s, int t) {
    double flow = 0;
    while (Bfs(s, t)) {
      it_ = head_;
      while (double f = Dfs(s, t, std::numeric_limits<double>::infinity()))
        flow += f;
    }
    return flow;
  }

 private:
  struct Edge {
    int to, next;
    double cap;
  };
  bool Bfs(int s, int t) {
    std::fill(level_.begin(), level_.end(), -1);
    std::vector<int> q{s};
    level_[s] = 0;
    for (size_t i = 0; i < q.size(); ++i) {
      for (int e = head_[q[i]]; e >= 0; e = edges_[e].next) {
        if (edges_[e].cap > 1e-6 && level_[edges_[e].to] < 0) {
          level_[edges_[e].to] = level_[q[i]] + 1;
          q.push_back(edges_[e].to);
        }
      }
    }
    return level_[t] >= 0;
  }
  double Dfs(int v, int t, double pushed) {
    if (v == t) return pushed;
    for (int& e = it_[v]; e >= 0; e = edges_[e].next) {
      Edge& ed = edges_[e];
      if (ed.cap <= 1e-6 || level_[ed.to] != level_[v] + 1) continue;
      const double f = Dfs(ed.to, t, std::min(pushed, ed.cap));
      if (f > 0) {
        ed.cap -= f;
        edges_[e ^ 1].cap += f;
        return f;
      }
    }
    return 0;
  }
  std::vector<int> head_, level_, it_;
  std::vector<Edge> edges_;
};

double Bisection(const Cluster& c, const std::vector<VertexId>& a,
                 const std::vector<VertexId>& b) {
  const int s = c.num_vertices(), t = s + 1;
  MaxFlow mf(s + 2);
  for (const Link& l : c.links())
    mf.AddEdge(l.a, l.b, l.bandwidth, l.bandwidth);
  const double inf = 1e30;
  for (VertexId h : a) mf.AddEdge(s, h, inf, 0);
  for (VertexId h : b) mf.AddEdge(h, t, inf, 0);
  return mf.Run(s, t);
}

void ExpectValidAndConnected(const Cluster& c) {
  Status v = c.Validate();
  EXPECT_THAT(v, IsOk()) << v.message();
  Status conn = c.CheckConnected();
  EXPECT_THAT(conn, IsOk()) << conn.message();
}

TEST(FatTree, RandomFabricsHaveThePromisedShape) {
  std::mt19937 rng(12345);
  const double kOversub[] = {1, 1, 2, 3, 1.5};
  for (int trial = 0; trial < 150; ++trial) {
    FatTreeOptions o;
    o.oversubscription = kOversub[rng() % 5];
    const int unit = o.oversubscription == 1.5
                         ? 5
                         : static_cast<int>(1 + o.oversubscription);
    o.k = unit * static_cast<int>(1 + rng() % 4);
    if (o.k < 2) o.k = 2;
    o.levels = 2 + static_cast<int>(rng() % 2);
    const int up = static_cast<int>(o.k / (1 + o.oversubscription) + 0.5);
    const int down = o.k - up;
    o.nics_per_host = (down % 2 == 0 && rng() % 3 == 0) ? 2 : 1;
    const int per_leaf = down / o.nics_per_host;
    const int max_hosts =
        o.levels == 2 ? o.k * per_leaf : o.k * down * per_leaf;
    o.hosts = 1 + static_cast<int>(rng() % std::min(max_hosts, 400));
    o.devices_per_host = 1 + static_cast<int>(rng() % 8);
    SCOPED_TRACE("k=" + std::to_string(o.k) +
                 " levels=" + std::to_string(o.levels) +
                 " o=" + std::to_string(o.oversubscription) +
                 " hosts=" + std::to_string(o.hosts) +
                 " nics=" + std::to_string(o.nics_per_host));
    StatusOr<Cluster> made = MakeFatTree(o);
    ASSERT_THAT(made, IsOk()) << made.status().message();
    const Cluster& c = *made;
    ExpectValidAndConnected(c);
    EXPECT_EQ(c.num_hosts(), o.hosts);
    EXPECT_EQ(c.total_devices(), int64_t{o.hosts} * o.devices_per_host);
    const int leaves = (o.hosts + per_leaf - 1) / per_leaf;
    const int pods = (leaves + down - 1) / down;
    for (VertexId h : c.hosts()) {
      EXPECT_EQ(c.degree(h), o.nics_per_host);
      EXPECT_EQ(c.LeavesOf(h).size(), 1u);
    }
    int n_leaves = 0, n_mid = 0, n_top = 0;
    for (VertexId s : c.switches()) {
      int downs = 0, ups = 0;
      for (const Adjacent& adj : c.neighbors(s))
        (c.Level(adj.neighbor) < c.Level(s) ? downs : ups)++;
      const int level = c.Level(s);
      if (level == 0) {
        ++n_leaves;
        EXPECT_EQ(ups, up);
        EXPECT_LE(downs, down);
      } else if (level == o.levels - 1) {
        ++n_top;
        EXPECT_EQ(ups, 0);
        EXPECT_EQ(downs, o.levels == 2 ? leaves : pods);
      } else {
        ++n_mid;
        EXPECT_EQ(ups, up);
        EXPECT_LE(downs, down);
      }
    }
    EXPECT_EQ(n_leaves, leaves);
    EXPECT_EQ(n_top, o.levels == 2 ? up : up * up);
    EXPECT_EQ(n_mid, o.levels == 2 ? 0 : pods * up);
    // Every host reaches every host within 2 * levels hops.
    const std::vector<int> dist = c.HopDistances(c.hosts()[rng() % o.hosts]);
    for (VertexId h : c.hosts()) {
      EXPECT_GE(dist[h], 0);
      EXPECT_LE(dist[h], 2 * o.levels);
    }
  }
}

TEST(FatTree, BisectionMatchesOversubscription) {
  struct Case {
    int k, levels;
    double o;
    int fill;  // whole leaves (2 levels) or whole pods (3 levels)
  };
  const Case cases[] = {{4, 2, 1, 4}, {8, 2, 1, 8},   {6, 2, 2, 6},
                        {8, 2, 3, 4}, {4, 3, 1, 4},   {6, 3, 2, 2},
                        {8, 3, 1, 2}, {10, 2, 1.5, 4}};
  for (const Case& k : cases) {
    FatTreeOptions o;
    o.k = k.k;
    o.levels = k.levels;
    o.oversubscription = k.o;
    const int up = static_cast<int>(o.k / (1 + k.o) + 0.5);
    const int down = o.k - up;
    o.hosts = k.levels == 2 ? k.fill * down : k.fill * down * down;
    o.nic_bandwidth = 1e9;
    SCOPED_TRACE("k=" + std::to_string(k.k) + " levels=" +
                 std::to_string(k.levels) + " o=" + std::to_string(k.o));
    StatusOr<Cluster> c = MakeFatTree(o);
    ASSERT_THAT(c, IsOk()) << c.status().message();
    ExpectValidAndConnected(*c);
    // Halves along leaf (2 levels) or pod (3 levels) boundaries.
    std::vector<VertexId> a(c->hosts().begin(),
                            c->hosts().begin() + o.hosts / 2);
    std::vector<VertexId> b(c->hosts().begin() + o.hosts / 2, c->hosts().end());
    const double crossings = k.levels == 3 ? k.o * k.o : k.o;
    const double expected = o.hosts / 2 * o.nic_bandwidth / crossings;
    EXPECT_NEAR(Bisection(*c, a, b), expected, expected * 1e-9);
  }
}

TEST(FatTree, NonBlockingThousandNodesThreeLevels) {
  FatTreeOptions o;
  o.hosts = 1024;
  o.devices_per_host = 8;
  o.k = 32;
  o.levels = 3;
  StatusOr<Cluster> c = MakeFatTree(o);
  ASSERT_THAT(c, IsOk()) << c.status().message();
  ExpectValidAndConnected(*c);
  EXPECT_EQ(c->total_devices(), 8192);
  EXPECT_EQ(c->vertex(0).name, "node0000");
  EXPECT_EQ(c->vertex(1023).name, "node1023");
  EXPECT_EQ(c->fabric().kind, FabricKind::kFatTree);
}

TEST(FatTree, ExplainsImpossibleOptions) {
  FatTreeOptions o;
  o.hosts = 8;
  o.k = 64;
  o.oversubscription = 2;
  Status s = MakeFatTree(o).status();
  EXPECT_NE(
      s.message().find("k=64 with oversubscription 2 gives 21.33 uplinks"),
      std::string::npos)
      << s.message();
  o.k = 4;
  o.oversubscription = 1;
  o.hosts = 9;  // 2 levels of k=4: 4 leaves x 2 hosts
  s = MakeFatTree(o).status();
  EXPECT_NE(s.message().find(
                "9 hosts do not fit in 2 levels of radix k=4 (at most 8)"),
            std::string::npos)
      << s.message();
  o.levels = 4;
  EXPECT_NE(MakeFatTree(o).status().message().find("levels must be 2 or 3"),
            std::string::npos);
  o.levels = 2;
  o.hosts = 0;
  EXPECT_THAT(MakeFatTree(o), Not(IsOk()));
}

TEST(RailOptimized, RandomFabricsKeepEveryRailOnItsLeaf) {
  std::mt19937 rng(777);
  for (int trial = 0; trial < 80; ++trial) {
    RailOptimizedOptions o;
    o.levels = 1 + static_cast<int>(rng() % 2);
    o.rails = 1 + static_cast<int>(rng() % 8);
    o.oversubscription = 1 + static_cast<int>(rng() % 2);
    o.k = static_cast<int>(1 + o.oversubscription) *
          static_cast<int>(1 + rng() % 6);
    const int up =
        o.levels == 2 ? static_cast<int>(o.k / (1 + o.oversubscription)) : 0;
    const int down = o.k - up;
    const int max_hosts = o.levels == 1 ? down : o.k * down;
    o.hosts = 1 + static_cast<int>(rng() % std::min(max_hosts, 300));
    SCOPED_TRACE("k=" + std::to_string(o.k) +
                 " levels=" + std::to_string(o.levels) + " rails=" +
                 std::to_string(o.rails) + " hosts=" + std::to_string(o.hosts));
    StatusOr<Cluster> made = MakeRailOptimized(o);
    ASSERT_THAT(made, IsOk()) << made.status().message();
    const Cluster& c = *made;
    ExpectValidAndConnected(c);
    const int groups = (o.hosts + down - 1) / down;
    EXPECT_EQ(c.num_switches(),
              groups * o.rails + (o.levels == 2 ? o.rails * up : 0));
    for (VertexId h : c.hosts()) {
      EXPECT_EQ(c.degree(h), o.rails);
      ASSERT_EQ(c.vertex(h).host.nics.size(), static_cast<size_t>(o.rails));
      for (int r = 0; r < o.rails; ++r) {
        const VertexId leaf = c.LeafOf(h, r);
        ASSERT_NE(leaf, kNoVertex);
        EXPECT_EQ(c.vertex(leaf).sw.rail, r);
      }
      for (const Adjacent& adj : c.neighbors(h)) {
        const Link& l = c.link(adj.link);
        EXPECT_EQ(c.vertex(h).host.nics[l.nic_a].rail,
                  c.vertex(adj.neighbor).sw.rail);
      }
    }
    for (VertexId s : c.switches()) {
      if (c.Level(s) == 1) {
        EXPECT_EQ(c.degree(s),
                  groups);  // one link per group's leaf of its rail
        for (const Adjacent& adj : c.neighbors(s))
          EXPECT_EQ(c.vertex(adj.neighbor).sw.rail, c.vertex(s).sw.rail);
      }
    }
  }
}

TEST(RailOptimized, WrongRailIsCaughtByValidate) {
  RailOptimizedOptions o;
  o.hosts = 4;
  o.rails = 2;
  o.k = 4;
  StatusOr<Cluster> c = MakeRailOptimized(o);
  ASSERT_THAT(c, IsOk()) << c.status().message();
  Cluster bad = *c;
  // NIC 0 (rail 0) of node0 into the rail-1 leaf.
  bad.AddLink(bad.Find("node0"), bad.Find("g0-rail1"), 1e9, 0, 0, -1).value();
  Status s = bad.Validate();
  EXPECT_NE(s.message().find("NIC `mlx5_0` of rail 0 links to `g0-rail1`"),
            std::string::npos)
      << s.message();
}

TEST(Torus, RandomToriHaveNeighbourLinksOnly) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 100; ++trial) {
    TorusOptions o;
    const int dims = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < dims; ++i)
      o.dims.push_back(1 + static_cast<int>(rng() % 7));
    o.wraparound = rng() % 4 != 0;
    std::string shape;
    for (int d : o.dims) shape += std::to_string(d) + "x";
    SCOPED_TRACE(shape + (o.wraparound ? " wrap" : " mesh"));
    StatusOr<Cluster> made = MakeTorus(o);
    ASSERT_THAT(made, IsOk()) << made.status().message();
    const Cluster& c = *made;
    ExpectValidAndConnected(c);
    int64_t hosts = 1, links = 0;
    for (int d : o.dims) hosts *= d;
    for (int d : o.dims)
      links += (o.wraparound && d > 2) ? hosts : hosts / d * (d - 1);
    EXPECT_EQ(c.num_hosts(), hosts);
    EXPECT_EQ(c.num_links(), links);
    for (VertexId h : c.hosts()) {
      const auto& x = c.vertex(h).host.torus_coords;
      EXPECT_EQ(c.HostAtCoords(x), h);
      int expected_degree = 0;
      for (int i = 0; i < dims; ++i) {
        const int d = o.dims[i];
        if (d == 1) continue;
        if (d == 2)
          expected_degree += 1;
        else if (o.wraparound)
          expected_degree += 2;
        else
          expected_degree += (x[i] == 0 || x[i] == d - 1) ? 1 : 2;
      }
      EXPECT_EQ(c.degree(h), expected_degree);
    }
    for (const Link& l : c.links()) {
      const auto& p = c.vertex(l.a).host.torus_coords;
      const auto& q = c.vertex(l.b).host.torus_coords;
      int differing = 0;
      for (int i = 0; i < dims; ++i) {
        if (p[i] == q[i]) continue;
        ++differing;
        const int diff = std::abs(p[i] - q[i]);
        EXPECT_TRUE(diff == 1 || (o.wraparound && diff == o.dims[i] - 1));
      }
      EXPECT_EQ(differing, 1);
    }
    // Hop distance is the torus (or mesh) Manhattan distance.
    const VertexId from = c.hosts()[rng() % hosts];
    const std::vector<int> dist = c.HopDistances(from);
    for (VertexId h : c.hosts()) {
      int expected = 0;
      for (int i = 0; i < dims; ++i) {
        const int dx = std::abs(c.vertex(h).host.torus_coords[i] -
                                c.vertex(from).host.torus_coords[i]);
        expected += o.wraparound ? std::min(dx, o.dims[i] - dx) : dx;
      }
      EXPECT_EQ(dist[h], expected);
    }
  }
}

TEST(Torus, SixteenCubed) {
  TorusOptions o;
  o.dims = {16, 16, 16};
  StatusOr<Cluster> c = MakeTorus(o);
  ASSERT_THAT(c, IsOk()) << c.status().message();
  ExpectValidAndConnected(*c);
  EXPECT_EQ(c->num_hosts(), 4096);
  EXPECT_EQ(c->num_links(), 3 * 4096);
  EXPECT_EQ(c->total_devices(), 4096 * 8);
  const int corner[] = {15, 0, 15};
  const VertexId h = c->HostAtCoords(corner);
  EXPECT_EQ(c->vertex(h).name, "node15-0-15");
  EXPECT_EQ(c->degree(h), 6);
  EXPECT_EQ(MakeTorus(TorusOptions{}).status().message(),
            "torus: 1 to 4 dimensions, got 0");
}

// Sizes are counted in 64 bits and bounded before anything is built: a
// large radix once overflowed an int and threw from vector::reserve
// (found by the loaders' fuzzers, through a cluster description).
TEST(Generators, HugeSizesAreRefusedBeforeBuilding) {
  FatTreeOptions ft;
  ft.hosts = 16;
  ft.k = 100000;
  ft.levels = 3;
  StatusOr<Cluster> c = MakeFatTree(ft);
  ASSERT_THAT(c, Not(IsOk()));
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("a generated cluster has at most"),
            std::string::npos)
      << c.status().message();
  ft.k = 1 << 30;
  ft.levels = 2;
  EXPECT_THAT(MakeFatTree(ft), Not(IsOk()));

  RailOptimizedOptions ro;
  ro.hosts = 16;
  ro.k = 100000;
  ro.rails = 1000;
  EXPECT_THAT(MakeRailOptimized(ro), Not(IsOk()));

  TorusOptions t;
  t.dims = {2048, 2048};
  EXPECT_THAT(MakeTorus(t), Not(IsOk()));
}

}  // namespace
}  // namespace dstrain::topology
