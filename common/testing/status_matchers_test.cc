#include "common/testing/status_matchers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dstrain {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

TEST(StatusMatchersTest, MatchStatusAndStatusOr) {
  EXPECT_THAT(Status::Ok(), IsOk());
  EXPECT_THAT(Half(4), IsOk());
  EXPECT_THAT(Half(3), Not(IsOk()));
  EXPECT_THAT(Half(3), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Half(3), StatusIs(StatusCode::kInvalidArgument, "3 is odd"));
  EXPECT_THAT(Half(3),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("odd")));
  EXPECT_THAT(Half(3), Not(StatusIs(StatusCode::kNotFound)));
  EXPECT_THAT(NotFound("x"), StatusIs(StatusCode::kNotFound, "x"));
}

TEST(StatusMatchersTest, AFailureShowsTheStatus) {
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(IsOk(), Half(3), &listener));
  EXPECT_THAT(listener.str(), HasSubstr("INVALID_ARGUMENT: 3 is odd"));
}

StatusOr<int> Quarter(int x) {
  DSTRAIN_ASSIGN_OR_RETURN(const int half, Half(x));
  DSTRAIN_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusMacrosTest, AssignOrReturnReturnsTheFirstError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_THAT(Quarter(6), StatusIs(StatusCode::kInvalidArgument, "3 is odd"));
  ASSERT_OK_AND_ASSIGN(const int q, Quarter(4));
  EXPECT_EQ(q, 1);
}

}  // namespace
}  // namespace dstrain
