// The closed forms at hand-computed points, and the nccl-tests figures.
#include "topology/sim/cost_model.h"

#include <gtest/gtest.h>

namespace dstrain::topology {
namespace {

TEST(CostModel, LowerBoundAndBusBandwidth) {
  EXPECT_DOUBLE_EQ(AllReduceLowerBound(4, 1e9, 1e9), 1.5);
  EXPECT_DOUBLE_EQ(AllReduceLowerBound(1, 1e9, 1e9), 0);
  // nccl-tests: busbw = algbw * 2(n-1)/n for all-reduce, (n-1)/n otherwise.
  EXPECT_DOUBLE_EQ(AlgBandwidth(1e9, 0.5), 2e9);
  EXPECT_DOUBLE_EQ(BusBandwidth(Collective::kAllReduce, 4, 1e9, 0.5), 3e9);
  EXPECT_DOUBLE_EQ(BusBandwidth(Collective::kAllGather, 4, 1e9, 0.5), 1.5e9);
  EXPECT_DOUBLE_EQ(BusBandwidth(Collective::kReduceScatter, 4, 1e9, 0.5),
                   1.5e9);
  // An algorithm at the bound has busbw = B.
  EXPECT_DOUBLE_EQ(BusBandwidth(Collective::kAllReduce, 8, 1e9,
                                AllReduceLowerBound(8, 1e9, 5e9)),
                   5e9);
}

// The fabric's bound at hand-computed points. The two-leaf sample (4 hosts
// of 2 ranks, one 100 Gb/s link each, 450 GB/s inside a host): the host
// cut, 2(H-1)/H · S/B_host, binds, and is below the rank-level
// 2(n-1)/n · S/B that the hosts' own links beat.
TEST(CostModel, CollectiveLowerBoundTakesTheTighterCut) {
  FabricCapacity f;
  f.hosts = 4;
  f.ranks = 8;
  f.network_bandwidth = 4 * 12.5e9;
  f.min_host_bandwidth = 12.5e9;
  f.rank_port_bandwidth = 450e9;
  f.intra_bandwidth = 8 * 450e9;
  const double S = 4 << 20;
  EXPECT_DOUBLE_EQ(CollectiveLowerBound(Collective::kAllReduce, f, S),
                   2.0 * 3 / 4 * S / 12.5e9);
  EXPECT_LT(CollectiveLowerBound(Collective::kAllReduce, f, S),
            AllReduceLowerBound(8, S, 12.5e9));
  EXPECT_DOUBLE_EQ(CollectiveLowerBound(Collective::kAllGather, f, S),
                   3 * S / (4 * 12.5e9));
  EXPECT_EQ(CollectiveLowerBound(Collective::kBarrier, f, S), 0);
  // Hosts of unequal bandwidth: each host sends at least S over its own.
  f.network_bandwidth = 3 * 100e9 + 1e9;
  f.min_host_bandwidth = 1e9;
  EXPECT_DOUBLE_EQ(CollectiveLowerBound(Collective::kAllReduce, f, S), S / 1e9);
  // One host: the ranks' ports, 2(n-1)/n · S/B_rank.
  FabricCapacity one;
  one.hosts = 1;
  one.ranks = 4;
  one.network_bandwidth = one.min_host_bandwidth = 50e9;
  one.rank_port_bandwidth = 100e9;
  one.intra_bandwidth = 4 * 100e9;
  EXPECT_DOUBLE_EQ(CollectiveLowerBound(Collective::kAllReduce, one, S),
                   2.0 * 3 / 4 * S / 100e9);
  // One rank per host: the rank cut is the host cut.
  FabricCapacity flat;
  flat.hosts = flat.ranks = 16;
  flat.network_bandwidth = 16 * 50e9;
  flat.min_host_bandwidth = 50e9;
  EXPECT_DOUBLE_EQ(CollectiveLowerBound(Collective::kAllReduce, flat, S),
                   AllReduceLowerBound(16, S, 50e9));
  flat.ranks = flat.hosts = 1;
  EXPECT_EQ(CollectiveLowerBound(Collective::kAllReduce, flat, S), 0);
}

TEST(CostModel, Ring) {
  // 2(n-1)(a + S/(nB)) with n=4, a=1us, S=4 MB, B=1 GB/s: 6 * (1us + 1ms).
  EXPECT_DOUBLE_EQ(RingAllReduceTime(4, 4e6, 1e-6, 1e9), 6 * (1e-6 + 1e-3));
  EXPECT_DOUBLE_EQ(RingReduceScatterTime(4, 4e6, 1e-6, 1e9), 3 * (1e-6 + 1e-3));
  EXPECT_EQ(RingAllReduceTime(1, 4e6, 1e-6, 1e9), 0);
}

TEST(CostModel, RecursiveHalvingDoubling) {
  // p = 8: 2*3*a + 2*7/8*S/B.
  EXPECT_DOUBLE_EQ(RecursiveHalvingDoublingTime(8, 8e6, 1e-6, 1e9),
                   6e-6 + 2 * 7.0 / 8 * 8e-3);
  // n = 10, p = 8: two more steps and two more buffers.
  EXPECT_DOUBLE_EQ(RecursiveHalvingDoublingTime(10, 8e6, 1e-6, 1e9),
                   8e-6 + (2 * 7.0 / 8 + 2) * 8e-3);
}

TEST(CostModel, HierarchicalAndTorus) {
  // g=4, N=8: 2*3*(ah + S/(4 Bh)) + 2*7*(a + S/(8 B)).
  EXPECT_DOUBLE_EQ(HierarchicalAllReduceTime(8, 4, 8e6, 2e-6, 1e9, 1e-6, 4e9),
                   6 * (1e-6 + 8e6 / 4 / 4e9) + 14 * (2e-6 + 8e6 / 8 / 1e9));
  // 4x4 torus, one rank per host, 4 parts: the link bound S(15/16)/(2B),
  // plus 12 hops of a chunk of S/16 capped at 1 MB.
  EXPECT_DOUBLE_EQ(TorusAllReduceTime(2, 4, 1, 16e6, 1e-6, 1e9, 0, 1, 1e6),
                   16e6 * 15 / 16 / 2e9 + 12 * (1e-6 + 1e6 / 1e9));
  // Hosts of 4 whose insides are slower than the links: the host bound,
  // and a chunk of S/64.
  EXPECT_DOUBLE_EQ(TorusAllReduceTime(2, 4, 4, 16e6, 1e-6, 1e9, 2e-6, 1e8, 1e6),
                   2.0 * 3 / 4 * 16e6 / 1e8 + 6 * (2e-6 + 2.5e5 / 1e8) +
                       12 * (1e-6 + 2.5e5 / 1e9));
}

TEST(CostModel, DoubleBinaryTreeApproachesTwiceTheBufferOverTheBandwidth) {
  TreeParams p;
  p.nodes = 1024;
  p.ranks_per_node = 8;
  p.alpha = 4e-6;
  p.bandwidth = 50e9;
  p.host_alpha = 1.5e-6;
  p.host_bandwidth = 450e9;
  const double S = 1 << 30;
  const double t = DoubleBinaryTreeTime(p, S);
  EXPECT_GT(t, 2 * S / p.bandwidth);
  EXPECT_LT(t, 1.02 * 2 * S / p.bandwidth);
  // Small messages: latency grows with log n, not n.
  p.nodes = 2048;
  const double small = DoubleBinaryTreeTime(p, 8);
  p.nodes = 1024;
  EXPECT_LT(small - DoubleBinaryTreeTime(p, 8),
            2 * (p.alpha + 4 / p.bandwidth) + 1e-12);
}

}  // namespace
}  // namespace dstrain::topology
