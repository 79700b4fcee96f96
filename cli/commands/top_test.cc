#include "cli/commands/top.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::cli {
namespace {

using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Four ranks on two hosts; rank 2 is behind, rank 3 has not reported.
proto::JobStatus Status4() {
  proto::JobStatus s;
  s.set_job_id("j-7");
  s.set_name("gpt");
  s.set_state(proto::JOB_RUNNING);
  for (int r = 0; r < 4; ++r) {
    proto::RankAssignment* a = s.add_ranks();
    a->set_rank(r);
    a->set_host(r < 2 ? "node-a" : "node-b");
  }
  const double times[] = {0.5, 0.8, 0.6};
  for (int r = 0; r < 3; ++r) {
    proto::StepMetrics* m = s.add_latest();
    m->set_rank(r);
    m->set_step(r == 2 ? 9 : 10);
    m->set_total_steps(100);
    m->set_step_time_s(times[r]);
    m->set_comm_time_s(0.25);
    m->set_data_wait_s(r == 1 ? 0.4 : 0.0);
    m->set_tokens_per_s(1000 * (r + 1));
    m->set_loss(3.0 - r);
    m->set_loss_scale(1);
    m->set_peak_rss_bytes((r + 1) * (std::int64_t{1} << 20));
  }
  return s;
}

std::vector<int> Order(const proto::JobStatus& s, TopView view) {
  std::vector<int> out;
  for (const TopRow& r : TopRows(s, view)) out.push_back(r.rank);
  return out;
}

TEST(TopTest, EachKeySortsTheWorstFirstAndSilentRanksLast) {
  const proto::JobStatus s = Status4();
  EXPECT_EQ(Order(s, {TopSort::kRank}), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(Order(s, {TopSort::kStep}), (std::vector<int>{2, 0, 1, 3}));
  EXPECT_EQ(Order(s, {TopSort::kTime}), (std::vector<int>{1, 2, 0, 3}));
  EXPECT_EQ(Order(s, {TopSort::kTokens}), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(Order(s, {TopSort::kData}), (std::vector<int>{1, 0, 2, 3}));
  EXPECT_EQ(Order(s, {TopSort::kMemory}), (std::vector<int>{2, 1, 0, 3}));
  TopView reversed{TopSort::kTime, /*reverse=*/true};
  EXPECT_EQ(Order(s, reversed), (std::vector<int>{0, 2, 1, 3}));
}

TEST(TopTest, TheSlowestRankIsTheOneBehind) {
  const proto::JobStatus s = Status4();
  EXPECT_EQ(SlowestRank(TopRows(s, {})), 2);
  proto::JobStatus none;
  EXPECT_EQ(SlowestRank(TopRows(none, {})), -1);
}

TEST(TopTest, TheFrameShowsEveryRankAndMarksTheSlowest) {
  const std::string frame = RenderTopFrame(Status4(), {});
  EXPECT_THAT(frame, HasSubstr("job j-7 (gpt)  RUNNING  step 10/100  ranks 4"));
  EXPECT_THAT(frame, HasSubstr("RANK  HOST"));
  EXPECT_THAT(frame, HasSubstr("COMM  DATA"));
  // Rank 1: 0.25 of 0.8 s in communication, 0.4 waiting for data.
  EXPECT_THAT(frame, HasSubstr("31%   50%"));
  EXPECT_THAT(frame, HasSubstr("<- slowest"));
  const std::size_t slow = frame.find("<- slowest");
  const std::size_t line = frame.rfind('\n', slow) + 1;
  EXPECT_EQ(frame.substr(line, 2), "2 ");
  EXPECT_THAT(frame, HasSubstr("3     node-b  -"));
  EXPECT_THAT(frame, Not(HasSubstr("\x1b[")));
  TopView ansi;
  ansi.ansi = true;
  EXPECT_THAT(RenderTopFrame(Status4(), ansi), HasSubstr("\x1b[7m2 "));
}

TEST(TopTest, JsonHasEveryRank) {
  const std::string json = TopJson(Status4(), {});
  EXPECT_THAT(json, HasSubstr("\"slowest_rank\":2"));
  EXPECT_THAT(json,
              HasSubstr("\"rank\":3,\"host\":\"node-b\",\"reported\":false"));
  EXPECT_THAT(json, HasSubstr("\"data_share\":0.5"));
}

TEST(TopTest, AnUnknownSortKeyNamesTheFlagAndTheKeys) {
  EXPECT_THAT(ParseTopSort("speed"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("--sort `speed` is not a column; use one of "
                                 "rank, host, step, time")));
  EXPECT_EQ(*ParseTopSort("comm"), TopSort::kComm);
  EXPECT_EQ(NextTopSort(TopSort::kData), TopSort::kRank);
}

}  // namespace
}  // namespace dstrain::cli
