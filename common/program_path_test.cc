#include "common/program_path.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace dstrain {
namespace {

TEST(FindProgramTest, FindsWhatTheShellFinds) {
  // `sh` is in every PATH a test runs with.
  const std::string sh = FindProgram("sh");
  ASSERT_FALSE(sh.empty());
  EXPECT_EQ(sh.substr(sh.size() - 3), "/sh");
  EXPECT_EQ(FindProgram("no-such-program-dstrain"), "");
  EXPECT_EQ(FindProgram("./relative/name"), "./relative/name");
  EXPECT_EQ(FindProgram(""), "");
}

TEST(FindProgramTest, FollowsPathInOrder) {
  const char* old = std::getenv("PATH");
  const std::string saved = old != nullptr ? old : "";
  ::setenv("PATH", "/nonexistent:/bin", 1);
  EXPECT_EQ(FindProgram("sh"), "/bin/sh");
  ::setenv("PATH", saved.c_str(), 1);
}

}  // namespace
}  // namespace dstrain
