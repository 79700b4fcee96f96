#include "worker/comm/abort_latch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/testing/status_matchers.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

TEST(AbortLatchTest, UsableUntilTripped) {
  AbortLatch latch;
  EXPECT_FALSE(latch.tripped());
  EXPECT_THAT(latch.CheckUsable("gloo all-reduce #1"), IsOk());
}

TEST(AbortLatchTest, TripReturnsTheFailureAndLaterCallsNameIt) {
  AbortLatch latch;
  const Status why = Unavailable("gloo all-reduce #3 failed on rank 1: reset");
  const Status returned = latch.Trip(why);
  EXPECT_EQ(returned.code(), StatusCode::kUnavailable);
  EXPECT_EQ(returned.message(), why.message());
  EXPECT_TRUE(latch.tripped());

  const Status later = latch.CheckUsable("gloo broadcast #4 (8 x float32)");
  EXPECT_EQ(later.code(), StatusCode::kAborted);
  EXPECT_EQ(later.message(),
            "gloo broadcast #4 (8 x float32): the communicator was aborted by "
            "an earlier failure: gloo all-reduce #3 failed on rank 1: reset");
}

TEST(AbortLatchTest, KeepsTheFirstFailureAndRunsOnFirstOnce) {
  AbortLatch latch;
  int aborts = 0;
  EXPECT_EQ(latch.Trip(DeadlineExceeded("first"), [&] { ++aborts; }).code(),
            StatusCode::kDeadlineExceeded);
  const Status second = latch.Trip(Unavailable("second"), [&] { ++aborts; });
  EXPECT_EQ(second.message(), "second");  // each caller gets its own error
  EXPECT_EQ(aborts, 1);
  EXPECT_NE(latch.CheckUsable("x").message().find("failure: first"),
            std::string::npos);
}

TEST(AbortLatchTest, ConcurrentTripsRecordExactlyOneFailure) {
  AbortLatch latch;
  std::atomic<int> aborts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_THAT(latch.Trip(Unavailable("failure " + std::to_string(i)),
                             [&] { aborts.fetch_add(1); }),
                  Not(IsOk()));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(aborts.load(), 1);
  const std::string m = latch.CheckUsable("x").message();
  EXPECT_NE(m.find("earlier failure: failure "), std::string::npos) << m;
}

}  // namespace
}  // namespace dstrain::comm
