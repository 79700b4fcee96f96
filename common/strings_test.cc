#include "common/strings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>

namespace dstrain {
namespace {

using ::testing::ElementsAre;

TEST(StringsTest, ParseIntegerTakesOnlyAWholeNumber) {
  EXPECT_EQ(ParseInteger<int>("42"), 42);
  EXPECT_EQ(ParseInteger<int>("+42"), 42);
  EXPECT_EQ(ParseInteger<int>("-7"), -7);
  EXPECT_EQ(ParseInteger<int>(""), std::nullopt);
  EXPECT_EQ(ParseInteger<int>("+"), std::nullopt);
  EXPECT_EQ(ParseInteger<int>("++1"), std::nullopt);
  EXPECT_EQ(ParseInteger<int>("4x"), std::nullopt);
  EXPECT_EQ(ParseInteger<int>(" 4"), std::nullopt);
  EXPECT_EQ(ParseInteger<int>("2147483648"), std::nullopt);
  EXPECT_EQ(ParseInteger<std::uint64_t>("-1"), std::nullopt);
  EXPECT_EQ(ParseInteger<std::uint64_t>("18446744073709551615"),
            UINT64_MAX);
}

TEST(StringsTest, ParseFiniteDouble) {
  EXPECT_EQ(ParseFiniteDouble("2.5"), 2.5);
  EXPECT_EQ(ParseFiniteDouble("+1e-3"), 1e-3);
  EXPECT_EQ(ParseFiniteDouble("1e400"), std::nullopt);
  EXPECT_EQ(ParseFiniteDouble("nan"), std::nullopt);
  EXPECT_EQ(ParseFiniteDouble("1.5s"), std::nullopt);
}

TEST(StringsTest, TrimSplitJoinFormat) {
  EXPECT_EQ(Trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(Trim(" \t"), "");
  EXPECT_THAT(Split("a,,b", ','), ElementsAre("a", "", "b"));
  EXPECT_THAT(Split("", ','), ElementsAre(""));
  EXPECT_EQ(Join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(Join({}, ", "), "");
  EXPECT_EQ(StrFormat("%d-%s-%.1f", 3, "x", 2.25), "3-x-2.2");
}

}  // namespace
}  // namespace dstrain
