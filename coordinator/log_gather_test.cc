#include "coordinator/log_gather.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

// Ranks 0-1 on node n-1 (host a), 2-3 on n-2 (host b).
proto::JobStatus Job() {
  proto::JobStatus j;
  j.set_job_id("j-4");
  j.set_world_size(4);
  j.set_attempt(2);
  for (int r = 0; r < 4; ++r) {
    proto::RankAssignment* a = j.add_ranks();
    a->set_rank(r);
    a->set_node_id(r < 2 ? "n-1" : "n-2");
    a->set_host(r < 2 ? "a" : "b");
  }
  return j;
}

std::vector<NodeInfo> Nodes() {
  NodeInfo one, two;
  one.node_id = "n-1";
  one.agent_address = "10.0.0.1:7001";
  two.node_id = "n-2";
  two.agent_address = "10.0.0.2:7001";
  return {one, two};
}

TEST(LogGatherTest, OneReadPerNodeWithItsRanksAndCursors) {
  proto::GetLogsRequest all;
  all.set_job_id("j-4");
  all.set_all_ranks(true);
  all.set_tail(10);
  proto::LogCursor* c = all.add_after();
  c->set_rank(3);
  c->set_next_line(42);
  StatusOr<std::vector<LogRead>> reads = PlanLogReads(all, Job(), Nodes());
  ASSERT_THAT(reads, IsOk());
  ASSERT_EQ(reads->size(), 2u);
  EXPECT_EQ((*reads)[1].agent_address, "10.0.0.2:7001");
  EXPECT_EQ((*reads)[1].request.ranks_size(), 2);
  EXPECT_EQ((*reads)[1].request.attempt(), 2);
  EXPECT_EQ((*reads)[1].request.tail(), 10);
  ASSERT_EQ((*reads)[1].request.after_size(), 1);
  EXPECT_EQ((*reads)[1].request.after(0).next_line(), 42);
  EXPECT_EQ((*reads)[0].request.after_size(), 0);
  EXPECT_FALSE((*reads)[0].lost);
  std::vector<NodeInfo> one_lost = Nodes();
  one_lost[1].alive = false;
  EXPECT_TRUE((*PlanLogReads(all, Job(), one_lost))[1].lost);

  proto::GetLogsRequest one;
  one.set_job_id("j-4");
  one.set_rank(1);
  reads = PlanLogReads(one, Job(), Nodes());
  ASSERT_THAT(reads, IsOk());
  ASSERT_EQ(reads->size(), 1u);
  EXPECT_EQ((*reads)[0].host, "a");

  proto::GetLogsRequest by_node;
  by_node.set_job_id("j-4");
  by_node.set_all_ranks(true);
  by_node.set_node("b");
  reads = PlanLogReads(by_node, Job(), Nodes());
  ASSERT_THAT(reads, IsOk());
  ASSERT_EQ(reads->size(), 1u);
  EXPECT_EQ((*reads)[0].node_id, "n-2");
}

TEST(LogGatherTest, WhatTheJobDoesNotHaveIsNotFound) {
  proto::GetLogsRequest r;
  r.set_job_id("j-4");
  r.set_rank(9);
  EXPECT_THAT(PlanLogReads(r, Job(), Nodes()),
              StatusIs(StatusCode::kNotFound, HasSubstr("has no rank 9")));
  r.set_all_ranks(true);
  r.set_node("zz");
  EXPECT_THAT(
      PlanLogReads(r, Job(), Nodes()),
      StatusIs(StatusCode::kNotFound, HasSubstr("no rank on node `zz`")));
  proto::JobStatus pending;
  pending.set_job_id("j-5");
  EXPECT_THAT(PlanLogReads(r, pending, Nodes()),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(LogGatherTest, LinesMergeInTimeOrderWithTheirHostAndFailuresAreNamed) {
  proto::GetLogsRequest all;
  all.set_job_id("j-4");
  all.set_all_ranks(true);
  std::vector<LogRead> reads = *PlanLogReads(all, Job(), Nodes());
  proto::ReadLogsResponse a;
  for (int t : {10, 30}) {
    proto::LogLine* l = a.add_lines();
    l->set_rank(0);
    l->set_time_unix_us(t);
    l->set_text("a" + std::to_string(t));
  }
  proto::LogCursor* c = a.add_next();
  c->set_rank(0);
  c->set_next_line(2);
  std::vector<StatusOr<proto::ReadLogsResponse>> results{a, a};
  proto::ReadLogsResponse b;
  proto::LogLine* l = b.add_lines();
  l->set_rank(2);
  l->set_time_unix_us(20);
  l->set_text("b20");
  results[1] = b;
  proto::GetLogsResponse merged = MergeLogReads(reads, results, 2);
  ASSERT_EQ(merged.lines_size(), 3);
  EXPECT_EQ(merged.lines(1).text(), "b20");
  EXPECT_EQ(merged.lines(1).host(), "b");
  EXPECT_EQ(merged.lines(2).host(), "a");
  results[1] = Status(StatusCode::kUnavailable, "connection refused");
  merged = MergeLogReads(reads, results, 2);
  ASSERT_EQ(merged.unreachable_size(), 1);
  EXPECT_EQ(merged.unreachable(0), "b: connection refused");
}

}  // namespace
}  // namespace dstrain::coordinator
