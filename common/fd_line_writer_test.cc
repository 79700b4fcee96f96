#include "common/fd_line_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "common/testing/status_matchers.h"

namespace dstrain {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

TEST(FdLineWriterTest, WritesWholeLinesAndRejectsBadFds) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto w = FdLineWriter::Open(fds[1]);
  ASSERT_THAT(w, IsOk()) << w.status().ToString();
  ASSERT_THAT(w->Write("{\"a\":1}\n"), IsOk());
  char buf[64] = {};
  ASSERT_EQ(::read(fds[0], buf, sizeof buf), 8);
  EXPECT_STREQ(buf, "{\"a\":1}\n");
  EXPECT_THAT(FdLineWriter::Open(fds[0]), Not(IsOk()));  // read end
  ::close(fds[0]);
  ::close(fds[1]);
  auto closed = FdLineWriter::Open(fds[1]);
  ASSERT_THAT(closed, Not(IsOk()));
  EXPECT_NE(closed.status().message().find("not open"), std::string::npos);
}

}  // namespace
}  // namespace dstrain
