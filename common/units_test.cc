#include "common/units.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace dstrain {
namespace {

TEST(UnitsTest, ApproxBinaryBytesHasOneDecimalInBinaryUnits) {
  EXPECT_EQ(ApproxBinaryBytes(0), "0 B");
  EXPECT_EQ(ApproxBinaryBytes(1023), "1023 B");
  EXPECT_EQ(ApproxBinaryBytes(1024), "1.0 KiB");
  EXPECT_EQ(ApproxBinaryBytes(50300), "49.1 KiB");
  EXPECT_EQ(ApproxBinaryBytes(38797313), "37.0 MiB");
  EXPECT_EQ(ApproxBinaryBytes(std::int64_t{3} << 29), "1.5 GiB");
}

TEST(UnitsTest, ParseByteSizeReadsBinarySuffixes) {
  EXPECT_EQ(*ParseByteSize("8", "--min-bytes"), 8);
  EXPECT_EQ(*ParseByteSize("4K", "--min-bytes"), 4096);
  EXPECT_EQ(*ParseByteSize("4kib", "--min-bytes"), 4096);
  EXPECT_EQ(*ParseByteSize("256M", "--max-bytes"), 268435456);
  EXPECT_EQ(*ParseByteSize("256MB", "--max-bytes"), 268435456);
  EXPECT_EQ(*ParseByteSize("1G", "--max-bytes"), 1073741824);
  EXPECT_EQ(*ParseByteSize("100B", "--max-bytes"), 100);
  EXPECT_EQ(*ParseByteSize("1024G", "--max-bytes"), kTiB);
}

TEST(UnitsTest, ParseByteSizeRefusesBadSizesNamingTheFlag) {
  for (const char* bad :
       {"", "M", "-8", "0", "4T", "4 K", "1.5M", "99999G", "1025G"}) {
    const Status s = ParseByteSize(bad, "--max-bytes").status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message().rfind("--max-bytes: ", 0), 0u) << s.message();
  }
  EXPECT_EQ(ParseByteSize("4T", "--max-bytes").status().message(),
            "--max-bytes: `4T` has an unknown unit `T` (expected bytes like "
            "8, 4K, 256M or 1G)");
}

// Sizes print with their unit, binary prefixes written out as nccl-tests'
// sizes are meant: never `4K` beside `4.0 KiB`.
TEST(UnitsTest, FormatByteSizeIsExactInBinaryUnits) {
  EXPECT_EQ(FormatByteSize(8), "8 B");
  EXPECT_EQ(FormatByteSize(4096), "4 KiB");
  EXPECT_EQ(FormatByteSize(268435456), "256 MiB");
  EXPECT_EQ(FormatByteSize(1 << 30), "1 GiB");
  EXPECT_EQ(FormatByteSize(1000), "1000 B");
  EXPECT_EQ(FormatByteSize(1536), "1536 B");
  // A flag takes the same without the space.
  for (std::int64_t b : {std::int64_t{8}, kKiB, 3 * kMiB, 5 * kGiB}) {
    std::string flag = FormatByteSize(b);
    flag.erase(flag.find(' '), 1);
    EXPECT_EQ(*ParseByteSize(flag, "x"), b) << flag;
  }
}

TEST(UnitsTest, BandwidthInBitsOrBytes) {
  EXPECT_DOUBLE_EQ(*ParseBandwidth("\t25 Gb/s "), 25e9 / 8);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("3 kB/s"), 3e3);
  EXPECT_DOUBLE_EQ(*ParseBandwidth("8 bps"), 1);
  EXPECT_FALSE(ParseBandwidth("inf Gb/s"));
  EXPECT_FALSE(ParseBandwidth("-1 Gb/s"));
  EXPECT_FALSE(ParseBandwidth(""));
  // Printed in bytes per second, whatever unit they were read in.
  EXPECT_EQ(FormatBandwidth(*ParseBandwidth("100 Gb/s")), "12.5 GB/s");
  EXPECT_EQ(FormatBandwidth(50e9), "50 GB/s");
  EXPECT_EQ(FormatBandwidth(1.6e12), "1.6 TB/s");
  EXPECT_EQ(FormatBandwidth(3e6), "3 MB/s");
  EXPECT_EQ(FormatBandwidth(100), "100 B/s");
}

TEST(UnitsTest, LatencyPicksTheLargestUnitAtOneOrMore) {
  EXPECT_DOUBLE_EQ(*ParseLatency("1e-6 s"), 1e-6);
  EXPECT_DOUBLE_EQ(*ParseLatency("3 \u03bcs"), 3e-6);
  EXPECT_FALSE(ParseLatency("1 h"));
  EXPECT_EQ(FormatLatency(0), "0 s");
  EXPECT_EQ(FormatLatency(1e-6), "1 us");
  EXPECT_EQ(FormatLatency(2.5e-3), "2.5 ms");
  EXPECT_EQ(FormatLatency(1.5), "1.5 s");
}

TEST(UnitsTest, SecondsHaveFixedDecimalsForColumns) {
  EXPECT_EQ(FormatSeconds(1.5), "1.500 s");
  EXPECT_EQ(FormatSeconds(0.0123456), "12.346 ms");
  EXPECT_EQ(FormatSeconds(3.5e-6), "3.50 us");
  EXPECT_EQ(FormatSeconds(0), "0.00 us");
  EXPECT_EQ(FormatSeconds(std::numeric_limits<double>::infinity()), "-");
  EXPECT_EQ(FormatSeconds(std::nan("")), "-");
}

TEST(UnitsTest, RatesAreShort) {
  EXPECT_EQ(FormatRate(950), "950");
  EXPECT_EQ(FormatRate(48210), "48.2k");
  EXPECT_EQ(FormatRate(1250000), "1.25M");
  EXPECT_EQ(FormatRate(std::nan("")), "-");
}

}  // namespace
}  // namespace dstrain
