#include "agent/job_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/testing/status_matchers.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

TEST(JobFilesTest, WritesPrivateFilesAndRemovesThem) {
  std::string dir, first, second;
  {
    StatusOr<std::unique_ptr<JobFiles>> files = JobFiles::Create();
    ASSERT_THAT(files, IsOk());
    dir = (*files)->dir();
    struct stat st;
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    StatusOr<std::string> a = (*files)->Write("j-1", 0, "name: a\n");
    StatusOr<std::string> b = (*files)->Write("j/../1", 1, "name: b\n");
    ASSERT_THAT(a, IsOk());
    ASSERT_THAT(b, IsOk());
    first = *a;
    second = *b;
    EXPECT_EQ(Read(first), "name: a\n");
    EXPECT_EQ(second.rfind(dir + "/", 0), 0u) << second;  // stays inside
    ASSERT_EQ(::stat(first.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    (*files)->Remove("j-1", 0);
    EXPECT_FALSE(Exists(first));
    EXPECT_TRUE(Exists(second));
  }
  EXPECT_FALSE(Exists(second));
  EXPECT_FALSE(Exists(dir));
}

}  // namespace
}  // namespace dstrain::agent
