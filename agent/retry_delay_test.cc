#include "agent/retry_delay.h"

#include <gtest/gtest.h>

#include <set>

namespace dstrain::agent {
namespace {

using std::chrono::milliseconds;

TEST(RetryDelayTest, BaseWhileAnsweringThenDoublingToTheCapWithJitter) {
  std::mt19937_64 rng(7);
  const RetryDelayOptions o{milliseconds(2000), milliseconds(15000)};
  EXPECT_EQ(NextRetryDelay(o, 0, rng), milliseconds(2000));
  for (int failures = 1; failures < 200; ++failures) {
    const std::int64_t d =
        std::min<std::int64_t>(2000LL << std::min(failures, 10), 15000);
    for (int k = 0; k < 50; ++k) {
      const milliseconds got = NextRetryDelay(o, failures, rng);
      EXPECT_GE(got.count(), d / 2) << failures;
      EXPECT_LE(got.count(), d) << failures;
    }
  }
}

TEST(RetryDelayTest, AgentsThatFailTogetherSpreadOut) {
  // 2,048 agents (their own random streams) after the same 3 failures.
  std::set<std::int64_t> distinct;
  for (int agent = 0; agent < 2048; ++agent) {
    std::mt19937_64 rng(agent);
    distinct.insert(NextRetryDelay({}, 3, rng).count());
  }
  // Drawn over 7.5 s .. 15 s in milliseconds: far from one instant.
  EXPECT_GT(distinct.size(), 1500u);
}

}  // namespace
}  // namespace dstrain::agent
