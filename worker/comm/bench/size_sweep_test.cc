#include "worker/comm/bench/size_sweep.h"

#include <gtest/gtest.h>

namespace dstrain::comm::bench {
namespace {

TEST(SizeSweepTest, ParsesBinarySuffixes) {
  EXPECT_EQ(*ParseByteSize("8", "--min-bytes"), 8);
  EXPECT_EQ(*ParseByteSize("4K", "--min-bytes"), 4096);
  EXPECT_EQ(*ParseByteSize("4kib", "--min-bytes"), 4096);
  EXPECT_EQ(*ParseByteSize("256M", "--max-bytes"), 268435456);
  EXPECT_EQ(*ParseByteSize("256MB", "--max-bytes"), 268435456);
  EXPECT_EQ(*ParseByteSize("1G", "--max-bytes"), 1073741824);
  EXPECT_EQ(*ParseByteSize("100B", "--max-bytes"), 100);
}

TEST(SizeSweepTest, RejectsBadSizesNamingTheFlag) {
  for (const char* bad : {"", "M", "-8", "0", "4T", "4 K", "1.5M", "99999G"}) {
    const Status s = ParseByteSize(bad, "--max-bytes").status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().rfind("--max-bytes: ", 0), 0u) << s.message();
  }
}

TEST(SizeSweepTest, FormatsTheShortestExactForm) {
  EXPECT_EQ(FormatByteSize(8), "8");
  EXPECT_EQ(FormatByteSize(4096), "4K");
  EXPECT_EQ(FormatByteSize(268435456), "256M");
  EXPECT_EQ(FormatByteSize(1 << 30), "1G");
  EXPECT_EQ(FormatByteSize(1000), "1000");
  EXPECT_EQ(FormatByteSize(1536), "1536");
}

TEST(SizeSweepTest, DefaultSweepCoversEightBytesTo256MiBByFour) {
  StatusOr<std::vector<std::int64_t>> s = SweepSizes(8, 256 << 20);
  ASSERT_TRUE(s.ok());
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
  EXPECT_FALSE(SweepSizes(1024, 8).ok());
  EXPECT_FALSE(SweepSizes(0, 8).ok());
  EXPECT_FALSE(SweepSizes(8, 64, 1).ok());
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
