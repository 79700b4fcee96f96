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

}  // namespace
}  // namespace dstrain::cli
