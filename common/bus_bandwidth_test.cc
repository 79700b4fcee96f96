#include "common/bus_bandwidth.h"

#include <gtest/gtest.h>

namespace dstrain {
namespace {

TEST(BusBandwidthTest, FactorsAreNcclTests) {
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllReduce, 4), 1.5);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllReduce, 2), 1.0);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllReduce, 1), 0.0);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kAllGather, 4), 0.75);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kReduceScatter, 3), 2.0 / 3);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kBroadcast, 8), 1.0);
  EXPECT_DOUBLE_EQ(BusBandwidthFactor(Collective::kBarrier, 8), 0.0);
  for (Collective c : {Collective::kAllReduce, Collective::kAllGather,
                       Collective::kReduceScatter, Collective::kBroadcast}) {
    EXPECT_EQ(BusBandwidthFactor(c, 0), 0.0);
  }
}

TEST(BusBandwidthTest, AlgbwIsSizeOverTime) {
  EXPECT_DOUBLE_EQ(AlgBandwidth(1e9, 0.5), 2e9);
  EXPECT_EQ(AlgBandwidth(1e9, 0), 0);
  EXPECT_EQ(AlgBandwidth(1e9, -1), 0);
  EXPECT_DOUBLE_EQ(BusBandwidth(Collective::kAllReduce, 4, 1e9, 0.5), 3e9);
  EXPECT_DOUBLE_EQ(BusBandwidth(Collective::kReduceScatter, 4, 1e9, 0.5),
                   1.5e9);
  EXPECT_EQ(BusBandwidth(Collective::kBarrier, 4, 1e9, 0.5), 0);
}

}  // namespace
}  // namespace dstrain
