#include "worker/comm/bench/bench_op.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::comm::bench {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

TEST(BenchOpTest, NamesRoundTripAndAcceptCommonSpellings) {
  for (BenchOp op : AllBenchOps()) {
    StatusOr<BenchOp> back = ParseBenchOp(BenchOpName(op));
    ASSERT_THAT(back, IsOk()) << BenchOpName(op);
    EXPECT_EQ(*back, op);
  }
  EXPECT_EQ(*ParseBenchOp("allreduce"), BenchOp::kAllReduce);
  EXPECT_EQ(*ParseBenchOp("All-Gather"), BenchOp::kAllGather);
  EXPECT_EQ(*ParseBenchOp("reduce-scatter"), BenchOp::kReduceScatter);
  const Status bad = ParseBenchOp("alltoall").status();
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("alltoall"), std::string::npos);
  EXPECT_NE(bad.message().find("reduce_scatter"), std::string::npos);
}

TEST(BenchOpTest, OpListKeepsSweepOrderDropsDuplicatesAndNamesTheFlag) {
  StatusOr<std::vector<BenchOp>> ops =
      ParseBenchOps("broadcast, all_reduce,broadcast", "--ops");
  ASSERT_THAT(ops, IsOk()) << ops.status().ToString();
  EXPECT_EQ(*ops,
            (std::vector<BenchOp>{BenchOp::kAllReduce, BenchOp::kBroadcast}));
  EXPECT_EQ(*ParseBenchOps("all", "--ops"), AllBenchOps());

  const Status bad = ParseBenchOps("all_reduce,gather", "--ops").status();
  EXPECT_NE(bad.message().find("--ops"), std::string::npos);
  EXPECT_NE(bad.message().find("`gather`"), std::string::npos);
  EXPECT_THAT(ParseBenchOps("all_reduce,,barrier", "--ops"), Not(IsOk()));
  EXPECT_THAT(ParseBenchOps("", "--ops"), Not(IsOk()));
}

TEST(BenchOpTest, BandwidthsAreBytesPerSecondInDecimalGigabytes) {
  // 1 GiB in 0.5 s: 2.147 GB/s algbw; all-reduce on 4 ranks: ×1.5.
  const std::int64_t gib = std::int64_t{1} << 30;
  EXPECT_DOUBLE_EQ(AlgBandwidthGBps(gib, 0.5), 2.147483648);
  EXPECT_DOUBLE_EQ(BusBandwidthGBps(BenchOp::kAllReduce, 4, gib, 0.5),
                   2.147483648 * 1.5);
  EXPECT_DOUBLE_EQ(BusBandwidthGBps(BenchOp::kAllGather, 4, gib, 0.5),
                   2.147483648 * 0.75);
  EXPECT_EQ(AlgBandwidthGBps(gib, 0.0), 0.0);
}

}  // namespace
}  // namespace dstrain::comm::bench
