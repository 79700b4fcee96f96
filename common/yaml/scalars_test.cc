// Typed scalar readers: what they accept, and the one-line messages.

#include "common/yaml/scalars.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/testing/status_matchers.h"

namespace dstrain::yaml {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

const Subject kAt{"a.b", Place{Place::Kind::kFile, "s.yaml:1:4"}};

YAML::Node Value(const std::string& text) {
  return YAML::Load("v: " + text)["v"];
}

TEST(Scalars, Integers) {
  EXPECT_EQ(*ReadInt(Value("42"), kAt), 42);
  EXPECT_EQ(*ReadInt(Value("+7"), kAt), 7);
  EXPECT_EQ(*ReadInt(Value("-7"), kAt), -7);
  EXPECT_EQ(ReadInt(Value("\"5\""), kAt).status().message(),
            "`a.b` at s.yaml:1:4: expected an integer, got `\"5\"`");
  EXPECT_EQ(ReadInt(Value("2.5"), kAt).status().message(),
            "`a.b` at s.yaml:1:4: expected an integer, got `2.5`");
  EXPECT_THAT(ReadInt(Value("99999999999999999999"), kAt), Not(IsOk()));
  EXPECT_THAT(ReadInt(Value("+-5"), kAt), Not(IsOk()));
  EXPECT_THAT(ReadInt(Value("[1]"), kAt), Not(IsOk()));
  EXPECT_EQ(ReadInt(Value(""), kAt).status().message(),
            "`a.b` at s.yaml:1:4: expected an integer, got nothing");
  EXPECT_EQ(*ReadUint64(Value("18446744073709551615"), kAt),
            18446744073709551615ull);
  EXPECT_EQ(ReadUint64(Value("-1"), kAt).status().message(),
            "`a.b` at s.yaml:1:4: expected a non-negative integer, got `-1`");
}

TEST(Scalars, NumbersAreFinite) {
  EXPECT_DOUBLE_EQ(*ReadDouble(Value("1e-3"), kAt), 1e-3);
  EXPECT_THAT(ReadDouble(Value("1e400"), kAt), Not(IsOk()));
  EXPECT_THAT(ReadDouble(Value("nan"), kAt), Not(IsOk()));
  EXPECT_THAT(ReadDouble(Value("inf"), kAt), Not(IsOk()));
  EXPECT_THAT(ReadDouble(Value(".inf"), kAt), Not(IsOk()));
  EXPECT_EQ(ReadDouble(Value("fast"), kAt).status().message(),
            "`a.b` at s.yaml:1:4: expected a number, got `fast`");
}

TEST(Scalars, BoolsStringsChoices) {
  EXPECT_TRUE(*ReadBool(Value("Yes"), kAt));
  EXPECT_FALSE(*ReadBool(Value("off"), kAt));
  EXPECT_THAT(ReadBool(Value("'true'"), kAt), Not(IsOk()));
  EXPECT_EQ(*ReadString(Value("'5'"), kAt), "5");
  EXPECT_EQ(*ReadString(Value("''"), kAt), "");
  EXPECT_EQ(ReadString(Value("''"), kAt, "a string", Empty::kRefused)
                .status()
                .message(),
            "`a.b` at s.yaml:1:4: expected a string, got `\"\"`");
  EXPECT_EQ(*ReadChoice(Value("cuda"), kAt, {"cpu", "cuda"}, "cpu or cuda"),
            1u);
  EXPECT_EQ(ReadChoice(Value("cdua"), kAt, {"cpu", "cuda"}, "cpu or cuda")
                .status()
                .message(),
            "`a.b` at s.yaml:1:4: expected cpu or cuda, got `cdua`; did you "
            "mean `cuda`?");
  const Subject ov{"a.b", Place{Place::Kind::kOverride, "a.b=x"}};
  EXPECT_EQ(ReadInt(Value("x"), ov).status().message(),
            "--set `a.b=x`: `a.b`: expected an integer, got `x`");
}

}  // namespace
}  // namespace dstrain::yaml
