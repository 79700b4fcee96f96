#include "worker/comm/split_membership.h"

#include <gtest/gtest.h>

namespace dstrain::comm {
namespace {

TEST(SplitMembershipTest, EvenAndOddColoursKeepParentOrder) {
  const std::vector<SplitRequest> req = {
      {0, 0}, {1, 0}, {0, 0}, {1, 0}, {0, 0}};
  auto m = ComputeSplit(req, 4);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->color, 0);
  EXPECT_EQ(m->members, (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(m->rank, 2);
  auto odd = ComputeSplit(req, 1);
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->members, (std::vector<int>{1, 3}));
  EXPECT_EQ(odd->rank, 0);
}

TEST(SplitMembershipTest, KeysOrderTheNewGroupAndTiesKeepParentRank) {
  const std::vector<SplitRequest> reversed = {{7, 3}, {7, 2}, {7, 1}, {7, 0}};
  auto m = ComputeSplit(reversed, 0);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->members, (std::vector<int>{3, 2, 1, 0}));
  EXPECT_EQ(m->rank, 3);
  const std::vector<SplitRequest> ties = {{0, 5}, {0, 1}, {0, 5}, {0, 1}};
  auto t = ComputeSplit(ties, 2);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->members, (std::vector<int>{1, 3, 0, 2}));
  EXPECT_EQ(t->rank, 3);
}

TEST(SplitMembershipTest, NegativeColourJoinsNothingAndIsNotAMember) {
  const std::vector<SplitRequest> req = {{-1, 0}, {2, 0}, {2, 0}};
  EXPECT_FALSE(ComputeSplit(req, 0).has_value());
  auto m = ComputeSplit(req, 2);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->members, (std::vector<int>{1, 2}));
  EXPECT_EQ(m->size(), 2);
}

}  // namespace
}  // namespace dstrain::comm
