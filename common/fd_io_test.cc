#include "common/fd_io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "common/unique_fd.h"

namespace dstrain {
namespace {

TEST(FdIoTest, WritesEverythingAndReadsUpToTheLimit) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  const std::string data(10000, 'x');
  ASSERT_EQ(WriteAll(write_end.get(), data), 0);
  write_end.Reset();
  std::string got = "pre:";
  ASSERT_EQ(ReadUpTo(read_end.get(), 4096, &got), 0);
  EXPECT_EQ(got.size(), 4 + 4096u);  // stops at the limit, appends
  std::string rest;
  ASSERT_EQ(ReadUpTo(read_end.get(), 1 << 20, &rest), 0);
  EXPECT_EQ(rest.size(), 10000u - 4096u);  // then the end of file
}

TEST(FdIoTest, ReportsTheErrno) {
  EXPECT_EQ(WriteAll(-1, "x"), EBADF);
  std::string out;
  EXPECT_EQ(ReadUpTo(-1, 10, &out), EBADF);
}

}  // namespace
}  // namespace dstrain
