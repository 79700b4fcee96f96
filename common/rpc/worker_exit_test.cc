#include "common/rpc/worker_exit.h"

#include <gtest/gtest.h>

#include <csignal>

namespace dstrain::rpc {
namespace {

proto::WorkerExit Exit(int code, int signal) {
  proto::WorkerExit e;
  e.set_exit_code(code);
  e.set_signal(signal);
  return e;
}

TEST(WorkerExitTest, SignalNames) {
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(77), "signal 77");
}

TEST(WorkerExitTest, FailureAndText) {
  EXPECT_TRUE(IsFailure(Exit(3, 0)));
  EXPECT_TRUE(IsFailure(Exit(0, SIGTERM)));
  EXPECT_FALSE(IsFailure(Exit(0, 0)));
  EXPECT_EQ(ExitText(Exit(3, 0)), "exited with code 3");
  EXPECT_EQ(ExitText(Exit(0, SIGKILL)), "was killed by SIGKILL");
}

}  // namespace
}  // namespace dstrain::rpc
