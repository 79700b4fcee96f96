#include "agent/line_splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dstrain::agent {
namespace {

std::vector<std::string> Split(LineSplitter& s,
                               const std::vector<std::string>& chunks,
                               bool finish) {
  std::vector<std::string> out;
  auto fn = [&](std::string_view l) { out.emplace_back(l); };
  for (const auto& c : chunks) s.Feed(c, fn);
  if (finish) s.Finish(fn);
  return out;
}

TEST(LineSplitterTest, JoinsLinesAcrossReads) {
  LineSplitter s;
  EXPECT_EQ(Split(s, {"hel", "lo\nwor", "ld\n\nx"}, false),
            (std::vector<std::string>{"hello", "world", ""}));
  EXPECT_EQ(s.pending(), 1u);
  EXPECT_EQ(Split(s, {}, true), (std::vector<std::string>{"x"}));
  EXPECT_EQ(s.pending(), 0u);
}

TEST(LineSplitterTest, StripsCarriageReturn) {
  LineSplitter s;
  EXPECT_EQ(Split(s, {"a\r\nb\r\n"}, true),
            (std::vector<std::string>{"a", "b"}));
}

TEST(LineSplitterTest, CutsOverlongLines) {
  LineSplitter s(4);
  EXPECT_EQ(Split(s, {"abcdefghij\n"}, true),
            (std::vector<std::string>{"abcd", "efgh", "ij"}));
  LineSplitter t(4);
  EXPECT_EQ(Split(t, {"ab", "cdef", "\n"}, true),
            (std::vector<std::string>{"abcd", "ef"}));
}

TEST(LineSplitterTest, FinishWithoutPartialEmitsNothing) {
  LineSplitter s;
  EXPECT_EQ(Split(s, {"a\n"}, true), (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace dstrain::agent
