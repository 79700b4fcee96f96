#include "worker/comm/collective_label.h"

#include <gtest/gtest.h>

namespace dstrain::comm {
namespace {

CollectiveLabel AllReduce17() {
  CollectiveLabel l;
  l.backend = "gloo";
  l.op = "all-reduce";
  l.seq = 17;
  l.numel = 4096;
  l.dtype = "float32";
  return l;
}

TEST(CollectiveLabelTest, DescribesOpSequenceAndShape) {
  EXPECT_EQ(Describe(AllReduce17()), "gloo all-reduce #17 (4096 x float32)");
  CollectiveLabel barrier;
  barrier.backend = "mpi";
  barrier.op = "barrier";
  barrier.seq = 3;
  EXPECT_EQ(Describe(barrier), "mpi barrier #3");
}

TEST(CollectiveLabelTest, Durations) {
  EXPECT_EQ(FormatDuration(std::chrono::seconds(30)), "30 s");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(1500)), "1.5 s");
  EXPECT_EQ(FormatDuration(std::chrono::milliseconds(250)), "250 ms");
}

TEST(CollectiveLabelTest, TimeoutMessageNamesTheMissingRanks) {
  const Status s = TimeoutError(AllReduce17(), std::chrono::seconds(30), 0,
                                std::vector<int>{2, 3});
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.message(),
            "gloo all-reduce #17 (4096 x float32) timed out after 30 s on "
            "rank 0; ranks 2, 3 never arrived");
  EXPECT_EQ(TimeoutError(AllReduce17(), std::chrono::seconds(2), 1,
                         std::vector<int>{3})
                .message(),
            "gloo all-reduce #17 (4096 x float32) timed out after 2 s on "
            "rank 1; rank 3 never arrived");
}

TEST(CollectiveLabelTest, TimeoutMessageWhenNobodyIsMissingOrNobodyKnows) {
  EXPECT_NE(TimeoutError(AllReduce17(), std::chrono::seconds(2), 1,
                         std::vector<int>{})
                .message()
                .find("every rank started it"),
            std::string::npos);
  const std::string unknown =
      TimeoutError(AllReduce17(), std::chrono::seconds(2), 1, std::nullopt,
                   "store unreachable")
          .message();
  EXPECT_NE(unknown.find("could not tell which ranks never arrived "
                         "(store unreachable)"),
            std::string::npos)
      << unknown;
}

}  // namespace
}  // namespace dstrain::comm
