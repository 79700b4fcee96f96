#include "common/fd_line_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace dstrain {
namespace {

TEST(FdLineWriterTest, WritesWholeLinesAndRejectsBadFds) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto w = FdLineWriter::Open(fds[1]);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE(w->Write("{\"a\":1}\n").ok());
  char buf[64] = {};
  ASSERT_EQ(::read(fds[0], buf, sizeof buf), 8);
  EXPECT_STREQ(buf, "{\"a\":1}\n");
  EXPECT_FALSE(FdLineWriter::Open(fds[0]).ok());  // read end
  ::close(fds[0]);
  ::close(fds[1]);
  auto closed = FdLineWriter::Open(fds[1]);
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.status().message().find("not open"), std::string::npos);
}

}  // namespace
}  // namespace dstrain
