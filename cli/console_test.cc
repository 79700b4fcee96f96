#include "cli/console.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace dstrain::cli {
namespace {

// Everything written to `f` so far.
std::string Contents(std::FILE* f) {
  std::fflush(f);
  long end = std::ftell(f);
  std::string s(static_cast<std::size_t>(end), '\0');
  std::rewind(f);
  std::size_t n = std::fread(s.data(), 1, s.size(), f);
  s.resize(n);
  std::fseek(f, 0, SEEK_END);
  return s;
}

TEST(ConsoleTest, TerminalLogsScrollAboveTheProgressLine) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Console c(f, /*tty=*/true, /*show_logs=*/true);
  c.Progress("step 1/10");
  c.Log("[rank 0 vm] hello");
  c.Progress("step 2/10");
  c.EndProgress();
  c.Print("summary\n");
  EXPECT_EQ(Contents(f),
            "\r\033[Kstep 1/10"                     // drawn
            "\r\033[K[rank 0 vm] hello\nstep 1/10"  // cleared, log, redrawn
            "\r\033[Kstep 2/10"                     // redrawn in place
            "\n"                                    // kept as a line
            "summary\n");
  std::fclose(f);
}

TEST(ConsoleTest, PlainOutputHasNoControlCharacters) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Console c(f, /*tty=*/false, /*show_logs=*/true);
  c.Progress("step 1/10");
  c.Log("[rank 0 vm] hello");
  c.EndProgress();
  EXPECT_EQ(Contents(f), "step 1/10\n[rank 0 vm] hello\n");
  std::fclose(f);
}

TEST(ConsoleTest, QuietDropsLogsButNotNotes) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Console c(f, /*tty=*/false, /*show_logs=*/false);
  c.Log("[rank 0 vm] hello");
  c.Note("dstrain: cancelling");
  EXPECT_EQ(Contents(f), "dstrain: cancelling\n");
  std::fclose(f);
}

}  // namespace
}  // namespace dstrain::cli
