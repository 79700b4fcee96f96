#include "cli/commands/operate.h"

#include <gtest/gtest.h>

namespace dstrain::cli {
namespace {

TEST(OperateFormatTest, AgesAreShortAndCoarse) {
  EXPECT_EQ(FormatAge(-3), "0s");
  EXPECT_EQ(FormatAge(45.9), "45s");
  EXPECT_EQ(FormatAge(12 * 60 + 5), "12m");
  EXPECT_EQ(FormatAge(3 * 3600 + 5 * 60), "3h05m");
  EXPECT_EQ(FormatAge(2 * 86400 + 4 * 3600 + 59), "2d04h");
}

TEST(OperateFormatTest, ColumnsLineUpAndLinesEndWithoutSpaces) {
  EXPECT_EQ(FormatTable({{"JOB", "STATE", "REASON"},
                         {"j-1", "RUNNING", ""},
                         {"j-000002", "PENDING", "needs 1 free node"}}),
            "JOB       STATE    REASON\n"
            "j-1       RUNNING\n"
            "j-000002  PENDING  needs 1 free node\n");
}

TEST(OperateFormatTest, SinceIsADurationBackOrAUnixTime) {
  EXPECT_DOUBLE_EQ(*ParseSince("", 1000), 0);
  EXPECT_DOUBLE_EQ(*ParseSince("90s", 1000), 910);
  EXPECT_DOUBLE_EQ(*ParseSince("10m", 1000), 400);
  EXPECT_DOUBLE_EQ(*ParseSince("2h", 100000), 92800);
  EXPECT_DOUBLE_EQ(*ParseSince("1d", 100000), 13600);
  EXPECT_DOUBLE_EQ(*ParseSince("1700000000", 5), 1700000000);
  for (const char* bad : {"yesterday", "-5m", "10 m", "5w", "nan"}) {
    StatusOr<double> r = ParseSince(bad, 1000);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--since"), std::string::npos);
  }
}

}  // namespace
}  // namespace dstrain::cli
