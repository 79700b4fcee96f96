// Reading one document safely: each hazard of hostile input is refused
// quickly, on one line, with its position.

#include "common/yaml/document.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <string>

#include "common/testing/status_matchers.h"
#include "common/yaml/parse.h"
#include "common/yaml/text_check.h"

namespace dstrain::yaml {
namespace {

using ::dstrain::testing::IsOk;

DocumentRules Rules() {
  DocumentRules r;
  r.what = "a test file";
  r.empty_hint = "a test file is a mapping";
  r.mapping_hint = "a mapping of keys";
  return r;
}

std::string ErrorOf(std::string_view text, DocumentRules rules = Rules()) {
  StatusOr<YAML::Node> doc = ReadMapping(text, Locator("t.yaml"), rules);
  if (doc.ok()) return "<ok>";
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().message().find('\n'), std::string::npos);
  return doc.status().message();
}

TEST(ReadMapping, ReadsAMapping) {
  StatusOr<YAML::Node> doc =
      ReadMapping("a: 1\nb: [x, y]\n", Locator("t.yaml"), Rules());
  ASSERT_THAT(doc, IsOk()) << doc.status().message();
  EXPECT_EQ((*doc)["a"].Scalar(), "1");
  EXPECT_EQ((*doc)["b"].size(), 2u);
}

TEST(ReadMapping, EmptyAndNotAMapping) {
  EXPECT_EQ(ErrorOf(""), "t.yaml is empty: a test file is a mapping");
  EXPECT_EQ(ErrorOf("# only a comment\n"),
            "t.yaml is empty: a test file is a mapping");
  EXPECT_EQ(ErrorOf("---\n"), "t.yaml is empty: a test file is a mapping");
  EXPECT_EQ(ErrorOf("\n- a\n- b\n"),
            "document at t.yaml:2:1: expected a mapping of keys, got a list "
            "of 2 items");
}

TEST(ReadMapping, SyntaxErrorsNameThePlace) {
  EXPECT_EQ(ErrorOf("a: [1, 2\n"),
            "YAML syntax error at t.yaml:2:1: end of sequence flow not found");
}

// yaml-cpp's LoadAll never returns on these.
TEST(ReadMapping, StuckTokenIsASyntaxError) {
  EXPECT_EQ(ErrorOf(",a"),
            "YAML syntax error at t.yaml:1:1: unexpected `,` outside [ ] or "
            "{ }");
  EXPECT_EQ(ErrorOf("[1],"),
            "YAML syntax error at t.yaml:1:4: unexpected `,` outside [ ] or "
            "{ }");
}

TEST(ReadMapping, OneDocumentOnly) {
  EXPECT_EQ(ErrorOf("a: 1\n---\nb: 2\n"),
            "second YAML document at t.yaml:2:1: a test file holds one "
            "document");
}

TEST(ReadMapping, SecondDocumentAtItsContent) {
  DocumentRules rules = Rules();
  rules.second_document_at = SecondDocumentAt::kContent;
  EXPECT_EQ(ErrorOf("a: 1\n---\nb: 2\n", rules),
            "second YAML document at t.yaml:3:1: a test file holds one "
            "document");
}

TEST(ReadMapping, AliasesAreRefused) {
  EXPECT_EQ(ErrorOf("a: &x [1]\nb: *x\n"),
            "alias `*x` at t.yaml:2:4: aliases (*name) are not supported in "
            "a test file");
  // Anchors alone are harmless.
  EXPECT_EQ(ErrorOf("a: &x [1]\n"), "<ok>");
}

TEST(ReadMapping, AliasBombIsRefusedQuickly) {
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 30; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) {
      bomb += (k ? ", *a" : "*a") + std::to_string(i - 1);
    }
    bomb += "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ErrorOf(bomb),
            "alias `*a0` at t.yaml:2:10: aliases (*name) are not supported "
            "in a test file");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(ReadMapping, DeepNestingIsRefusedWithItsPlace) {
  // yaml-cpp reads each unclosed `[` as a list and a mapping whose key it
  // may be, so this is two levels per bracket.
  EXPECT_EQ(ErrorOf("a: " + std::string(100000, '[')),
            "YAML nested more than 64 levels deep at t.yaml:1:36");
  EXPECT_EQ(ErrorOf("a: " + std::string(100000, '{')),
            "YAML nested more than 64 levels deep at t.yaml:1:67");
  std::string block;
  for (int i = 0; i < 100; ++i) block += std::string(i, ' ') + "k:\n";
  EXPECT_EQ(ErrorOf(block),
            "YAML nested more than 64 levels deep at t.yaml:65:65");
  std::string compact = "a:\n";
  for (int i = 0; i < 100000; ++i) compact += "- ";
  EXPECT_EQ(ErrorOf(compact),
            "YAML nested more than 64 levels deep at t.yaml:2:127");
  // At the limit is fine.
  EXPECT_EQ(ErrorOf("a: " + std::string(63, '[') + std::string(63, ']')),
            "<ok>");
}

TEST(ReadMapping, SizeLimit) {
  DocumentRules small = Rules();
  small.limits.max_bytes = 16;
  EXPECT_EQ(ErrorOf("a: 12345678901234567890\n", small),
            "t.yaml is 24 bytes: a test file may have at most 16");
}

TEST(ReadMapping, BinaryIsRefused) {
  EXPECT_EQ(ErrorOf(std::string("a: b\n c\0d", 10)),
            "control character 0x00 at t.yaml:2:3: a test file is UTF-8 text");
  EXPECT_EQ(ErrorOf("a: caf\xe9\n"),
            "invalid UTF-8 byte 0xe9 at t.yaml:1:7: a test file is UTF-8 text");
  EXPECT_EQ(ErrorOf("a: caf\xc3\xa9\tb\r\n"), "<ok>");
}

TEST(Parse, BriefWordsAValue) {
  YAML::Node out;
  std::optional<ParseError> e =
      Parse("[&x a, *x]", "a --set value", Limits{}, &out);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->Brief(), "aliases (*name) are not supported in a --set value");
  e = Parse("[1, 2", "a --set value", Limits{}, &out);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->Brief(), "end of sequence flow not found");
  EXPECT_FALSE(Parse("[1, 2]", "a --set value", Limits{}, &out).has_value());
  EXPECT_EQ(out.size(), 2u);
}

TEST(TextCheck, MarkAtCountsLinesAndBytes) {
  const YAML::Mark m = MarkAt("ab\ncd\nef", 7);
  EXPECT_EQ(m.line, 2);
  EXPECT_EQ(m.column, 1);
  EXPECT_EQ(m.pos, 7);
}

}  // namespace
}  // namespace dstrain::yaml
