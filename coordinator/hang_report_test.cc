// DescribeHang: the wavefront of a hung job from its ranks' records.
#include "coordinator/hang_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dstrain::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RankView Rank(int rank, const std::string& host, std::int64_t started,
              std::int64_t completed, const std::string& process = "sleeping",
              int step = 57) {
  RankView r;
  r.rank = rank;
  r.host = host;
  r.has_progress = true;
  r.progress.set_rank(rank);
  r.progress.set_step(step);
  r.progress.set_phase("train");
  r.progress.set_process(process);
  proto::CollectiveState* w = r.progress.add_comms();
  w->set_comm("world");
  w->set_op(started % 2 ? "all-reduce" : "all-gather");
  w->set_dtype("float32");
  w->set_numel(10976);
  w->set_started_seq(started);
  w->set_completed_seq(completed);
  return r;
}

TEST(HangReportTest, NamesTheRankThatNeverArrived) {
  const proto::HangReport h =
      DescribeHang({Rank(0, "node-a", 413, 412), Rank(1, "node-a", 413, 412),
                    Rank(2, "node-b", 412, 412), Rank(3, "node-b", 413, 412)},
                   31.2);
  EXPECT_EQ(h.collective(), "world all-reduce #413 (10976 x float32)");
  EXPECT_THAT(h.waiting(), ElementsAre(0, 1, 3));
  ASSERT_EQ(h.culprits_size(), 1);
  EXPECT_EQ(h.culprits(0).rank(), 2);
  EXPECT_EQ(h.culprits(0).host(), "node-b");
  EXPECT_EQ(h.culprits(0).why(), "never-arrived");
  EXPECT_EQ(h.culprits(0).seq(), 412);
  EXPECT_TRUE(h.culprits(0).completed());
  EXPECT_EQ(h.summary(),
            "no progress for 31 s: ranks 0, 1, 3 wait in world all-reduce "
            "#413 (10976 x float32); rank 2 on node-b never arrived (last: "
            "all-gather #412 done, step 57, process sleeping)");
}

TEST(HangReportTest, AStoppedRankInsideTheCollectiveIsTheCulprit) {
  // SIGSTOP after it entered the collective: it looks like the others
  // from its record; its process state gives it away.
  const proto::HangReport h = DescribeHang(
      {Rank(0, "a", 9, 8), Rank(1, "b", 9, 8, "stopped"), Rank(2, "a", 9, 8)},
      30);
  ASSERT_EQ(h.culprits_size(), 1);
  EXPECT_EQ(h.culprits(0).rank(), 1);
  EXPECT_EQ(h.culprits(0).why(), "stopped");
  EXPECT_THAT(h.summary(), HasSubstr("rank 1 on b is stopped (last: "
                                     "all-reduce #9 waiting, step 57)"));
}

// Stopped just after it started the next collective, before the others
// finished the one before: they are behind the frontier because of it.
TEST(HangReportTest, AStoppedRankAheadOfTheOthersIsTheOnlyCulprit) {
  const proto::HangReport r =
      DescribeHang({Rank(0, "a", 8, 7), Rank(1, "a", 8, 7), Rank(2, "b", 8, 7),
                    Rank(3, "b", 9, 8, "stopped")},
                   31);
  ASSERT_EQ(r.culprits_size(), 1);
  EXPECT_EQ(r.culprits(0).rank(), 3);
  EXPECT_EQ(r.culprits(0).why(), "stopped");
}

TEST(HangReportTest, ARankWithoutARecordNeverReachedACollective) {
  RankView silent;
  silent.rank = 1;
  silent.host = "b";
  const proto::HangReport h = DescribeHang({Rank(0, "a", 1, 0), silent}, 45);
  ASSERT_EQ(h.culprits_size(), 1);
  EXPECT_EQ(h.culprits(0).why(), "no-record");
  EXPECT_THAT(h.summary(), HasSubstr("rank 1 on b never reached a collective"));
}

TEST(HangReportTest, WhenEveryoneWaitsAndNoneIsStoppedNoOneIsBlamedFalsely) {
  // All in the frontier, none stopped (a peer's network is gone): the
  // waiting ranks are listed, nobody is invented as culprit.
  const proto::HangReport h =
      DescribeHang({Rank(0, "a", 5, 4), Rank(1, "b", 5, 4)}, 30);
  EXPECT_THAT(h.waiting(), ElementsAre(0, 1));
  EXPECT_EQ(h.culprits_size(), 0);
  EXPECT_EQ(h.summary(),
            "no progress for 30 s: ranks 0, 1 wait in world all-reduce #5 "
            "(10976 x float32)");
}

TEST(HangReportTest, ManyCulpritsAreCountedNotAllNamed) {
  std::vector<RankView> ranks = {Rank(0, "a", 100, 99)};
  for (int r = 1; r <= 20; ++r) ranks.push_back(Rank(r, "h", 99, 99));
  const proto::HangReport h = DescribeHang(ranks, 30);
  EXPECT_EQ(h.culprits_size(), 20);
  EXPECT_THAT(h.summary(), HasSubstr("; and 12 more"));
}

}  // namespace
}  // namespace dstrain::coordinator
