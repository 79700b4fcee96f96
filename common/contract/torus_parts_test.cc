#include "common/contract/torus_parts.h"

#include <gtest/gtest.h>

#include <set>

namespace dstrain::contract {
namespace {

TEST(TorusPartsTest, BothDirectionsPerDimensionWhereAnyIsLongerThanTwo) {
  // 4x4x2: x+, x-, y+, y-, z+, z- (z's neighbours are one host, but the
  // z parts' later levels run along x and y, one each way).
  const std::vector<TorusPart> parts = TorusParts({4, 4, 2});
  ASSERT_EQ(parts.size(), 6u);
  std::set<std::pair<int, int>> first;  // (first dimension, direction)
  for (const TorusPart& p : parts) {
    ASSERT_EQ(p.order.size(), 3u);
    EXPECT_EQ(std::set<int>(p.order.begin(), p.order.end()),
              (std::set<int>{0, 1, 2}));
    first.emplace(p.order[0], p.direction);
  }
  EXPECT_EQ(first, (std::set<std::pair<int, int>>{
                       {0, 1}, {0, -1}, {1, 1}, {1, -1}, {2, 1}, {2, -1}}));
  // Orders are rotations: every level uses each dimension equally often.
  EXPECT_EQ(parts[0].order, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(parts[2].order, (std::vector<int>{1, 2, 0}));
  EXPECT_EQ(parts[4].order, (std::vector<int>{2, 0, 1}));
  // Where no dimension is longer than 2 directions mean nothing: one part
  // per dimension.
  const std::vector<TorusPart> small = TorusParts({2, 2, 2});
  ASSERT_EQ(small.size(), 3u);
  for (const TorusPart& p : small) EXPECT_EQ(p.direction, 1);
}

TEST(TorusPartsTest, DimensionsOfOneTakeNoPart) {
  const std::vector<TorusPart> parts = TorusParts({4, 1, 3});
  ASSERT_EQ(parts.size(), 4u);
  for (const TorusPart& p : parts) {
    EXPECT_EQ(std::set<int>(p.order.begin(), p.order.end()),
              (std::set<int>{0, 2}));
  }
  EXPECT_EQ(TorusParts({2, 2}).size(), 2u);
  EXPECT_EQ(TorusParts({3, 2}).size(), 4u);
  EXPECT_EQ(TorusParts({16, 16, 16}).size(), 6u);
  EXPECT_TRUE(TorusParts({1, 1}).empty());
}

TEST(TorusPartsTest, NamesAndRangesCoverEveryElementOnce) {
  EXPECT_EQ(TorusPartCommName(3, 1), "torus_p3_y");
  EXPECT_EQ(TorusPartLocalCommName(0), "torus_p0_local");
  for (std::int64_t n : {0, 1, 3, 5, 7, 1000003}) {
    std::int64_t next = 0;
    for (int p = 0; p < 5; ++p) {
      const auto [a, b] = TorusPartRange(n, 5, p);
      EXPECT_EQ(a, next);
      EXPECT_LE(b - a, n / 5 + 1);
      next = b;
    }
    EXPECT_EQ(next, n);
  }
}

}  // namespace
}  // namespace dstrain::contract
