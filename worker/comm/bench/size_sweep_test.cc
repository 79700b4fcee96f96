#include "worker/comm/bench/size_sweep.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::comm::bench {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

TEST(SizeSweepTest, DefaultSweepCoversEightBytesTo256MiBByFour) {
  StatusOr<std::vector<std::int64_t>> s = SweepSizes(8, 256 << 20);
  ASSERT_THAT(s, IsOk());
  // 8·4^k up to 128 MiB (13 sizes), then 256 MiB itself.
  ASSERT_EQ(s->size(), 14u);
  EXPECT_EQ(s->front(), 8);
  EXPECT_EQ((*s)[1], 32);
  EXPECT_EQ((*s)[12], 128 << 20);
  EXPECT_EQ(s->back(), 256 << 20);
  for (std::size_t i = 1; i + 1 < s->size(); ++i) {
    EXPECT_EQ((*s)[i], (*s)[i - 1] * 4);
  }
}

TEST(SizeSweepTest, EndsOnMaxWhenTheStepsLandOnIt) {
  EXPECT_EQ(*SweepSizes(8, 8192),
            (std::vector<std::int64_t>{8, 32, 128, 512, 2048, 8192}));
  EXPECT_EQ(*SweepSizes(8, 4096),
            (std::vector<std::int64_t>{8, 32, 128, 512, 2048, 4096}));
  EXPECT_EQ(*SweepSizes(100, 100), (std::vector<std::int64_t>{100}));
  EXPECT_EQ(*SweepSizes(1, 8, 2), (std::vector<std::int64_t>{1, 2, 4, 8}));
}

TEST(SizeSweepTest, RefusesEmptyRanges) {
  EXPECT_THAT(SweepSizes(1024, 8), Not(IsOk()));
  EXPECT_THAT(SweepSizes(0, 8), Not(IsOk()));
  EXPECT_THAT(SweepSizes(8, 64, 1), Not(IsOk()));
}

TEST(SizeSweepTest, FromFlagsNamesTheFlagAtFault) {
  EXPECT_EQ(*SweepSizesFromFlags("8", "2K"),
            (std::vector<std::int64_t>{8, 32, 128, 512, 2048}));
  EXPECT_EQ(SweepSizesFromFlags("x", "2K").status().message().rfind(
                "--min-bytes: ", 0),
            0u);
  EXPECT_EQ(SweepSizesFromFlags("8", "0").status().message().rfind(
                "--max-bytes: ", 0),
            0u);
  EXPECT_EQ(SweepSizesFromFlags("1M", "1K").status().message(),
            "--min-bytes/--max-bytes: the smallest size (1 MiB) is above "
            "the largest (1 KiB)");
}

TEST(SizeSweepTest, ShapesRoundDownToWholeElementsPerRank) {
  // fp32 all-reduce of 8 B: 2 elements.
  BufferShape ar = ShapeFor(BenchOp::kAllReduce, 8, 4, 4);
  EXPECT_EQ(ar.count, 2);
  EXPECT_EQ(ar.count_per_rank, 2);
  EXPECT_EQ(ar.bytes, 8);
  // 1 KiB gathered on 3 ranks: 85 floats each, 255 in all, 1020 B moved.
  BufferShape ag = ShapeFor(BenchOp::kAllGather, 1024, 4, 3);
  EXPECT_EQ(ag.count_per_rank, 85);
  EXPECT_EQ(ag.count, 255);
  EXPECT_EQ(ag.bytes, 1020);
  // 8 B over 4 ranks would be half a float each: one each instead.
  BufferShape rs = ShapeFor(BenchOp::kReduceScatter, 8, 4, 4);
  EXPECT_EQ(rs.count_per_rank, 1);
  EXPECT_EQ(rs.count, 4);
  EXPECT_EQ(rs.bytes, 16);
  // 2 B of float64: one element.
  EXPECT_EQ(ShapeFor(BenchOp::kBroadcast, 2, 8, 2).bytes, 8);
  EXPECT_EQ(ShapeFor(BenchOp::kBarrier, 4096, 4, 2).bytes, 0);
}

}  // namespace
}  // namespace dstrain::comm::bench
