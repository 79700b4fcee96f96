#include "common/unique_fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace dstrain {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFdTest, ClosesWhenItGoesOutOfScope) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  {
    UniqueFd fd(fds[0]);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), fds[0]);
  }
  EXPECT_FALSE(IsOpen(fds[0]));
}

TEST(UniqueFdTest, MovesOwnership) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd a(fds[0]);
  UniqueFd b(fds[1]);
  UniqueFd c(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(c.get(), fds[0]);
  c = std::move(b);  // closes fds[0]
  EXPECT_FALSE(IsOpen(fds[0]));
  EXPECT_EQ(c.get(), fds[1]);
  c.Reset();
  EXPECT_FALSE(IsOpen(fds[1]));
  EXPECT_FALSE(c.valid());
}

TEST(UniqueFdTest, ReleaseKeepsItOpen) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  int raw = -1;
  {
    UniqueFd fd(fds[0]);
    raw = fd.Release();
    EXPECT_FALSE(fd.valid());
  }
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

TEST(UniqueFdTest, CloseReportsTheResult) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[1]);
  UniqueFd fd(fds[0]);
  EXPECT_EQ(fd.Close(), 0);
  EXPECT_FALSE(fd.valid());
  EXPECT_FALSE(IsOpen(fds[0]));
  EXPECT_EQ(fd.Close(), 0);  // nothing held
  UniqueFd bad(1 << 20);     // not an open descriptor
  EXPECT_EQ(bad.Close(), -1);
  EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace dstrain
