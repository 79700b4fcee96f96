#include "coordinator/elastic.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dstrain::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(KeepGlobalBatchTest, AtFullSizeNothingChanges) {
  const ElasticBatch b = KeepGlobalBatch(2, 2, 2, 8, 1);
  EXPECT_EQ(b.grad_accum, 1);
  EXPECT_TRUE(b.kept);
  EXPECT_EQ(b.note, "");
}

TEST(KeepGlobalBatchTest, HalfTheNodesAccumulateTwiceAsMuch) {
  const ElasticBatch b = KeepGlobalBatch(2, 2, 1, 8, 1);
  EXPECT_EQ(b.grad_accum, 2);
  EXPECT_TRUE(b.kept);
  EXPECT_EQ(b.note, "grad_accum 2 keeps the global batch of 32 sequences");
}

TEST(KeepGlobalBatchTest, TheJobsOwnAccumulationIsMultiplied) {
  // 4 nodes x 1 rank x accum 3 = 12 micro-batches; on 2 nodes 6 each.
  EXPECT_EQ(KeepGlobalBatch(1, 4, 2, 4, 3).grad_accum, 6);
}

TEST(KeepGlobalBatchTest, WhatDoesNotDivideKeepsTheJobsAccumulation) {
  const ElasticBatch b = KeepGlobalBatch(1, 3, 2, 8, 1);
  EXPECT_EQ(b.grad_accum, 1);
  EXPECT_FALSE(b.kept);
  EXPECT_THAT(b.note, HasSubstr("the global batch changes from 24 to 16"));
  EXPECT_THAT(b.note, HasSubstr("3 micro-batches do not divide over 2 ranks"));
}

TEST(PreferNodesTest, PreviousNodesThenTheirLeavesThenTheRest) {
  const std::vector<CandidateNode> free = {{"n-1", "leaf1"},
                                           {"n-2", "leaf0"},
                                           {"n-3", ""},
                                           {"n-4", "leaf0"},
                                           {"n-5", "leaf2"}};
  EXPECT_THAT(PreferNodes(free, {"n-4"}, {"leaf0"}),
              ElementsAre(3, 1, 0, 2, 4));
}

TEST(PreferNodesTest, WithoutHistoryRegistrationOrderStays) {
  const std::vector<CandidateNode> free = {{"n-1", "a"}, {"n-2", "b"}};
  EXPECT_THAT(PreferNodes(free, {}, {}), ElementsAre(0, 1));
}

}  // namespace
}  // namespace dstrain::coordinator
