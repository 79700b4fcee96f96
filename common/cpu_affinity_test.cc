#include "common/cpu_affinity.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>

namespace dstrain {
namespace {

TEST(CpuAffinityTest, FormatsRangesLikeTheKernel) {
  EXPECT_EQ(FormatCpuList({}), "");
  EXPECT_EQ(FormatCpuList({3}), "3");
  EXPECT_EQ(FormatCpuList({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
  EXPECT_EQ(FormatCpuList({1, 3, 5}), "1,3,5");
}

TEST(CpuAffinityTest, ThisProcessRunsOnOneOfItsCpus) {
  const std::vector<int> cpus = ThisProcessCpus();
  ASSERT_FALSE(cpus.empty());
  EXPECT_TRUE(std::is_sorted(cpus.begin(), cpus.end()));
  const int now = sched_getcpu();
  ASSERT_GE(now, 0);
  EXPECT_NE(std::find(cpus.begin(), cpus.end(), now), cpus.end());
}

}  // namespace
}  // namespace dstrain
