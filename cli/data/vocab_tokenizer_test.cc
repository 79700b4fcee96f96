#include "cli/data/vocab_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::cli {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(VocabTokenizerTest, GreedyLongestMatchWithEscapes) {
  StatusOr<VocabTokenizer> v =
      VocabTokenizer::Parse("a\nb\nab\nabc\n\\n\n\\x20\nc\n", "v.txt");
  ASSERT_THAT(v.status(), IsOk());
  EXPECT_EQ(v->size(), 7);
  EXPECT_EQ(v->token(4), "\n");
  EXPECT_EQ(v->token(5), " ");
  std::vector<std::int64_t> ids;
  ASSERT_THAT(v->Encode("abcab a\nb", 0, &ids), IsOk());
  EXPECT_THAT(ids, ElementsAre(3, 2, 5, 0, 4, 1));
  ids.clear();
  EXPECT_THAT(v->Encode("abz", 100, &ids),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("byte 0x7A at offset 102 starts no token")));
}

TEST(VocabTokenizerTest, BadFilesNameTheLine) {
  EXPECT_THAT(VocabTokenizer::Parse("a\n\\q\n", "v.txt").status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("v.txt:2: unknown escape")));
  EXPECT_THAT(VocabTokenizer::Parse("a\na\n", "v.txt").status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("v.txt:2: duplicate token (also id 0)")));
  EXPECT_THAT(VocabTokenizer::Parse("a\n\nb", "v.txt").status(),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("v.txt:2: an empty token")));
  EXPECT_THAT(VocabTokenizer::Parse("\\x4", "v.txt").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("hex digits")));
  EXPECT_THAT(VocabTokenizer::Parse("", "v.txt").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no tokens")));
}

}  // namespace
}  // namespace dstrain::cli
