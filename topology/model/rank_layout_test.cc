#include "topology/model/rank_layout.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

TEST(RankLayoutTest, NodesAreContiguousInGivenOrder) {
  auto slots = LayOutRanks({"b", "a"}, 2);
  ASSERT_THAT(slots, IsOk()) << slots.status().ToString();
  ASSERT_EQ(slots->size(), 4u);
  EXPECT_EQ((*slots)[0].node_id, "b");
  EXPECT_EQ((*slots)[1].node_id, "b");
  EXPECT_EQ((*slots)[1].local_rank, 1);
  EXPECT_EQ((*slots)[2].node_id, "a");
  EXPECT_EQ((*slots)[2].rank, 2);
  EXPECT_EQ((*slots)[2].local_rank, 0);
  EXPECT_EQ((*slots)[3].node_rank, 1);
  EXPECT_THAT(ValidateRankLayout(*slots), IsOk());
}

TEST(RankLayoutTest, RejectsBadInput) {
  EXPECT_THAT(LayOutRanks({}, 1), Not(IsOk()));
  EXPECT_THAT(LayOutRanks({"a"}, 0), Not(IsOk()));
  auto dup = LayOutRanks({"a", "a"}, 1);
  ASSERT_THAT(dup, Not(IsOk()));
  EXPECT_NE(dup.status().message().find("appears twice"), std::string::npos);
}

TEST(RankLayoutTest, ValidatorCatchesEveryKindOfMistake) {
  std::vector<RankSlot> twice = {{0, 0, 0, "a"}, {0, 1, 0, "a"}};
  EXPECT_NE(ValidateRankLayout(twice).message().find("placed twice"),
            std::string::npos);
  std::vector<RankSlot> out_of_range = {{0, 0, 0, "a"}, {5, 1, 0, "a"}};
  EXPECT_NE(ValidateRankLayout(out_of_range).message().find("outside"),
            std::string::npos);
  std::vector<RankSlot> two_node_ranks = {{0, 0, 0, "a"}, {1, 1, 1, "a"}};
  EXPECT_NE(ValidateRankLayout(two_node_ranks).message().find("two node ranks"),
            std::string::npos);
  std::vector<RankSlot> local_twice = {{0, 0, 0, "a"}, {1, 0, 0, "a"}};
  EXPECT_NE(ValidateRankLayout(local_twice).message().find("used twice"),
            std::string::npos);
  std::vector<RankSlot> local_gap = {{0, 0, 0, "a"}, {1, 2, 0, "a"}};
  EXPECT_NE(ValidateRankLayout(local_gap).message().find("not 0..k-1"),
            std::string::npos);
}

}  // namespace
}  // namespace dstrain::topology
