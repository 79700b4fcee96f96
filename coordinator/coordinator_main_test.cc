#include "coordinator/coordinator_main.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <future>
#include <thread>

namespace dstrain::coordinator {
namespace {

TEST(CoordinatorMainTest, BadTokenIsAUsageError) {
  EXPECT_EQ(RunCoordinatorCommand("127.0.0.1:0", "has space"), 2);
  EXPECT_EQ(RunCoordinatorCommand("127.0.0.1:0", "@/nonexistent/token"), 2);
  EXPECT_EQ(RunCoordinatorCommand("no-port", "tok"), 2);
}

TEST(CoordinatorMainTest, ServesUntilSigterm) {
  std::promise<void> blocked;
  std::promise<int> rc;
  std::thread serving([&] {
    // With SIGTERM blocked in this thread, a signal sent to it stays pending
    // for the command's sigwait instead of killing the test process.
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, nullptr);
    blocked.set_value();
    rc.set_value(RunCoordinatorCommand("127.0.0.1:0", ""));
  });
  blocked.get_future().wait();
  pthread_kill(serving.native_handle(), SIGTERM);
  std::future<int> done = rc.get_future();
  ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(done.get(), 0);
  serving.join();
}

}  // namespace
}  // namespace dstrain::coordinator
