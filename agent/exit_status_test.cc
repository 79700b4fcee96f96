#include "agent/exit_status.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "common/rpc/worker_exit.h"

namespace dstrain::agent {
namespace {

// Builds wait statuses the way the kernel encodes them (W_EXITCODE).
int Exited(int code) { return code << 8; }
int Signaled(int sig) { return sig; }

TEST(ExitStatusTest, CleanExit) {
  auto e = ExitFromWaitStatus(3, Exited(0));
  EXPECT_EQ(e.rank(), 3);
  EXPECT_EQ(e.exit_code(), 0);
  EXPECT_EQ(e.signal(), 0);
  EXPECT_FALSE(rpc::IsFailure(e));
  EXPECT_EQ(rpc::ExitText(e), "exited with code 0");
}

TEST(ExitStatusTest, NonZeroExit) {
  auto e = ExitFromWaitStatus(1, Exited(7));
  EXPECT_EQ(e.exit_code(), 7);
  EXPECT_TRUE(rpc::IsFailure(e));
  EXPECT_EQ(rpc::ExitText(e), "exited with code 7");
}

TEST(ExitStatusTest, KilledBySignal) {
  ASSERT_TRUE(WIFSIGNALED(Signaled(SIGKILL)));
  auto e = ExitFromWaitStatus(1, Signaled(SIGKILL));
  EXPECT_EQ(e.signal(), SIGKILL);
  EXPECT_TRUE(rpc::IsFailure(e));
  EXPECT_EQ(rpc::ExitText(e), "was killed by SIGKILL");
}

}  // namespace
}  // namespace dstrain::agent
