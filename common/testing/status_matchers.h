#pragma once
// GoogleMock matchers for Status and StatusOr, as abseil's:
//
//   EXPECT_THAT(LoadJobFile(path), IsOk());
//   EXPECT_THAT(store.Get("k", 1s), StatusIs(StatusCode::kDeadlineExceeded,
//                                           HasSubstr("`k`")));
//   ASSERT_OK_AND_ASSIGN(JobConfig job, LoadJobFile(path));
//
// A failure prints the Status (code and message), not "false". For tests.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>

#include "common/status.h"

namespace dstrain {

inline void PrintTo(const Status& s, std::ostream* os) { *os << s.ToString(); }
template <typename T>
void PrintTo(const StatusOr<T>& s, std::ostream* os) {
  *os << (s.ok() ? std::string("OK (with a value)") : s.status().ToString());
}

namespace testing {
namespace status_internal {

inline const Status& GetStatus(const Status& s) { return s; }
template <typename T>
const Status& GetStatus(const StatusOr<T>& s) {
  return s.status();
}

}  // namespace status_internal

// Matches an OK Status or a StatusOr holding a value.
MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const Status& s = status_internal::GetStatus(arg);
  if (!s.ok()) *result_listener << "which is " << s.ToString();
  return s.ok();
}

// Matches a Status (or StatusOr) with `code` and a message matching
// `message` (a string is an exact match; use HasSubstr for part of it).
MATCHER_P2(StatusIs, code, message,
           std::string(negation ? "is not " : "is ") + StatusCodeName(code) +
               " with a message that " +
               ::testing::DescribeMatcher<std::string>(message, negation)) {
  const Status& s = status_internal::GetStatus(arg);
  *result_listener << "which is " << s.ToString();
  return s.code() == code && ::testing::ExplainMatchResult(
                                 ::testing::MatcherCast<std::string>(message),
                                 s.message(), result_listener);
}

// Matches a Status (or StatusOr) with `code`, whatever its message.
MATCHER_P(StatusIs, code,
          std::string(negation ? "is not " : "is ") + StatusCodeName(code)) {
  const Status& s = status_internal::GetStatus(arg);
  *result_listener << "which is " << s.ToString();
  return s.code() == code;
}

}  // namespace testing
}  // namespace dstrain

// Evaluates `expr` (a StatusOr); fails the test (ASSERT) unless it holds a
// value, else moves the value into `lhs` (`auto x` or an existing name).
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  DSTRAIN_ASSERT_OK_AND_ASSIGN_IMPL_(   \
      DSTRAIN_STATUS_CONCAT_(dstrain_assert_statusor_, __LINE__), lhs, expr)
#define DSTRAIN_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)           \
  auto tmp = (expr);                                                 \
  ASSERT_TRUE(tmp.ok()) << #expr << ": " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()
