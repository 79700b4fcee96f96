#include "common/yaml/suggest.h"

#include <gtest/gtest.h>

namespace dstrain::yaml {
namespace {

TEST(EditDistanceTest, CountsEditsAndAdjacentSwaps) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("abc", ""), 3);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("steps", "steps"), 0);
  EXPECT_EQ(EditDistance("stpes", "steps"), 1);  // one swap
  EXPECT_EQ(EditDistance("stepz", "steps"), 1);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("lerning_rate", "learning_rate"), 1);
}

TEST(ClosestMatchTest, PicksNearestAndRespectsTheLimit) {
  const std::vector<Candidate> pool = {
      {"steps", "steps", 0}, {"seed", "seed", 0}, {"micro_batch", "mb", 0}};
  EXPECT_EQ(ClosestMatch("stpes", pool), "steps");
  EXPECT_EQ(ClosestMatch("Micro-Batch", pool), "mb");
  EXPECT_EQ(ClosestMatch("colour", pool), std::nullopt);
  EXPECT_EQ(ClosestMatch("x", {{"lr", "lr", 0}}), std::nullopt);
}

TEST(ClosestMatchTest, TierBreaksTies) {
  const std::vector<Candidate> pool = {{"abcd", "far", 2}, {"abce", "near", 0}};
  EXPECT_EQ(ClosestMatch("abcf", pool), "near");
}

}  // namespace
}  // namespace dstrain::yaml
