#include "coordinator/exit_description.h"

#include <gtest/gtest.h>

#include <csignal>

namespace dstrain::coordinator {
namespace {

proto::WorkerExit Exit(int rank, int code, int signal, std::string reason) {
  proto::WorkerExit e;
  e.set_rank(rank);
  e.set_exit_code(code);
  e.set_signal(signal);
  e.set_reason(std::move(reason));
  return e;
}

TEST(ExitDescriptionTest, DescribesSignalsAndCodes) {
  EXPECT_EQ(DescribeExit(Exit(1, 0, SIGKILL, ""), "vm"),
            "rank 1 on vm was killed by SIGKILL");
  EXPECT_EQ(DescribeExit(Exit(0, 3, 0, "loss became NaN"), "h"),
            "rank 0 on h exited with code 3 (loss became NaN)");
}

TEST(ExitDescriptionTest, TheRanksOwnLastErrorEndsTheReason) {
  proto::WorkerExit e = Exit(1, 2, 0, "");
  e.set_last_error(
      "dstrain worker: device: cuda but no CUDA device is visible");
  EXPECT_EQ(DescribeExit(e, "vm"),
            "rank 1 on vm exited with code 2: dstrain worker: device: cuda but "
            "no CUDA device is visible");
}

}  // namespace
}  // namespace dstrain::coordinator
