#include "common/rpc/auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "common/testing/status_matchers.h"
#include "common/unique_fd.h"

namespace dstrain::rpc {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

TEST(AuthTest, ConstantTimeEqualsComparesBytesAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("xbc", "abc"));
}

TEST(AuthTest, CheckAuthorizationAcceptsOnlyTheRightBearerToken) {
  const std::string good = "Bearer s3cret";
  const std::string bad = "Bearer s3cre";
  const std::string no_prefix = "s3cret";
  Metadata ok{{"authorization", good}};
  EXPECT_THAT(CheckAuthorization(ok, "s3cret"), IsOk());

  Metadata wrong{{"authorization", bad}};
  Status s = CheckAuthorization(wrong, "s3cret");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("wrong cluster token"), std::string::npos);

  Metadata missing;
  s = CheckAuthorization(missing, "s3cret");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("missing"), std::string::npos);

  Metadata unprefixed{{"authorization", no_prefix}};
  EXPECT_EQ(CheckAuthorization(unprefixed, "s3cret").code(),
            StatusCode::kUnauthenticated);

  // A server with no token refuses even an empty bearer.
  const std::string empty_bearer = "Bearer ";
  Metadata empty{{"authorization", empty_bearer}};
  EXPECT_EQ(CheckAuthorization(empty, "").code(), StatusCode::kUnauthenticated);
}

TEST(AuthTest, GenerateTokenIsRandomHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 8; ++i) {
    StatusOr<std::string> t = GenerateToken();
    ASSERT_THAT(t, IsOk()) << t.status().ToString();
    EXPECT_EQ(t->size(), 64u);
    EXPECT_EQ(t->find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_THAT(ValidateToken(*t, "generated"), IsOk());
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 8u);
}

TEST(AuthTest, ValidateTokenRejectsEmptyAndSpaces) {
  EXPECT_EQ(ValidateToken("", "--token").code(), StatusCode::kInvalidArgument);
  Status s = ValidateToken("ab cd", "--token");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--token"), std::string::npos);
  EXPECT_NE(s.message().find("character 3"), std::string::npos);
}

// FIPS 180-2's test vector, and what a record keeps is not the token.
TEST(TokenDigestTest, IsTheSha256InHex) {
  EXPECT_EQ(TokenDigest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string token = "j-1.0123456789abcdef";
  EXPECT_EQ(TokenDigest(token).size(), 64u);
  EXPECT_EQ(TokenDigest(token).find(token), std::string::npos);
  EXPECT_NE(TokenDigest(token), TokenDigest(token + "0"));
}

}  // namespace
}  // namespace dstrain::rpc
