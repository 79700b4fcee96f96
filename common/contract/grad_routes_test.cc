#include "common/contract/grad_routes.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

TEST(GradRoutesTest, FormatMergesAndShortens) {
  EXPECT_EQ(FormatGradRoutes({}), "");
  EXPECT_EQ(FormatGradRoutes({{0, "world"}, {100, "world"}}), "");
  EXPECT_EQ(FormatGradRoutes({{0, "hierarchical"}}), "hierarchical");
  EXPECT_EQ(FormatGradRoutes({{0, "torus"}, {64, "torus"}}), "torus");
  EXPECT_EQ(FormatGradRoutes(
                {{0, "hierarchical"}, {38797313, "world"}, {1 << 30, "world"}}),
            "hierarchical@0,world@38797313");
}

TEST(GradRoutesTest, ParseRoundTripsAndRoutesBySize) {
  auto routes = ParseGradRoutes("world@0,hierarchical@1024,world@65536");
  ASSERT_THAT(routes, IsOk()) << routes.status().ToString();
  EXPECT_EQ(FormatGradRoutes(*routes), "world@0,hierarchical@1024,world@65536");
  EXPECT_EQ(RouteFor(*routes, 0), "world");
  EXPECT_EQ(RouteFor(*routes, 1023), "world");
  EXPECT_EQ(RouteFor(*routes, 1024), "hierarchical");
  EXPECT_EQ(RouteFor(*routes, 65535), "hierarchical");
  EXPECT_EQ(RouteFor(*routes, 65536), "world");
  EXPECT_EQ(RouteFor(*routes, std::int64_t{1} << 40), "world");

  auto one = ParseGradRoutes("torus");
  ASSERT_THAT(one, IsOk());
  EXPECT_EQ(RouteFor(*one, 4), "torus");
  auto none = ParseGradRoutes("");
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(RouteFor(*none, 4), "world");
  EXPECT_EQ(RouteFor({}, 4), "world");
}

TEST(GradRoutesTest, BadTablesNameTheEntry) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"ring", "route `ring`: expected world, hierarchical or torus"},
      {"hierarchical@0,ring@5", "route #2 `ring@5`: expected world"},
      {"hierarchical@5",
       "route #1 `hierarchical@5`: the first route must "
       "start at 0"},
      {"world@0,torus@x", "route #2 `torus@x`: the byte count is not"},
      {"world@0,torus@-3", "route #2 `torus@-3`: the byte count is not"},
      {"world@0,torus@9,world@9", "route #3 `world@9`: byte counts must"},
      {"world@0,world@9", "route #2 `world@9`: the same route"},
      {"world@0,", "route #2 ``: expected <route>@<bytes>"},
  };
  for (const Case& c : cases) {
    auto r = ParseGradRoutes(c.text);
    ASSERT_THAT(r, Not(IsOk())) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << r.status().message();
  }
}

TEST(GradRoutesTest, DescribeForPeople) {
  EXPECT_EQ(DescribeGradRoutes({}), "world");
  EXPECT_EQ(DescribeGradRoutes({{0, "hierarchical"}}), "hierarchical");
  EXPECT_EQ(DescribeGradRoutes({{0, "hierarchical"}, {38797313, "world"}}),
            "hierarchical below 37.0 MiB, world from 37.0 MiB");
  EXPECT_EQ(
      DescribeGradRoutes(
          {{0, "world"}, {1024, "torus"}, {std::int64_t{1} << 30, "world"}}),
      "world below 1.0 KiB, torus from 1.0 KiB below 1.0 GiB, world "
      "from 1.0 GiB");
}

}  // namespace
}  // namespace dstrain
