#include "coordinator/http/coordinator_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace dstrain::coordinator::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

proto::JobSummary Job(const std::string& id, proto::JobState state, int step) {
  proto::JobSummary j;
  j.set_job_id(id);
  j.set_name("name-" + id);
  j.set_state(state);
  j.set_step(step);
  j.set_total_steps(100);
  j.set_world_size(2);
  j.set_loss(2.5);
  j.set_tokens_per_s(1000);
  j.set_attempt(1);
  return j;
}

CoordinatorSnapshot Snapshot() {
  CoordinatorSnapshot s;
  s.version = "9.9.9";
  s.start_time_unix_s = 1700000000;
  s.jobs = {Job("j-1", proto::JOB_RUNNING, 40),
            Job("j-2", proto::JOB_PENDING, 0),
            Job("j-3", proto::JOB_PENDING, 0)};
  proto::JobStatus running;
  for (int i = 1; i <= 10; ++i) {
    proto::StepMetrics* h = running.add_history();
    h->set_step(30 + i);
    h->set_step_time_s(0.1 * i);  // 0.1 .. 1.0
  }
  running.set_steps_observed(40);
  running.set_step_time_sum_s(12.5);
  running.set_startup_s(3.25);
  for (int r = 0; r < 2; ++r) {
    proto::RankAssignment* a = running.add_ranks();
    a->set_rank(r);
    a->set_host(r == 0 ? "node-a" : "node-b");
    proto::StepMetrics* m = running.add_latest();
    m->set_rank(r);
    m->set_step(40 - r);
    m->set_step_time_s(0.5 + r);
    m->set_comm_time_s(0.125);
    m->set_peak_rss_bytes(1 << 20);
    m->set_loss_scale(65536);
  }
  s.statuses = {running, proto::JobStatus(), proto::JobStatus()};
  for (const char* state : {"alive", "alive", "lost", "drained"}) {
    proto::NodeStatus& n = s.nodes.emplace_back();
    n.set_state(state);
  }
  s.nodes[0].set_job_id("j-1");
  return s;
}

TEST(CoordinatorMetricsTest, ClusterJobAndSummaryValues) {
  const std::string text =
      WriteExposition(CoordinatorMetrics(Snapshot(), MetricsOptions{}));
  EXPECT_THAT(text, HasSubstr("dstrain_build_info{version=\"9.9.9\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_jobs{state=\"running\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_jobs{state=\"pending\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_jobs{state=\"failed\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_queue_length 2\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_nodes{state=\"alive\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_nodes{state=\"lost\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_nodes{state=\"awaiting\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_nodes_busy 1\n"));
  EXPECT_THAT(text,
              HasSubstr("dstrain_job_info{job_id=\"j-2\",name=\"name-j-2\","
                        "state=\"pending\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("dstrain_job_step{job_id=\"j-1\",name=\"name-j-1\"} 40\n"));
  EXPECT_THAT(
      text,
      HasSubstr("dstrain_job_loss{job_id=\"j-1\",name=\"name-j-1\"} 2.5\n"));
  // No loss before a job's first step.
  EXPECT_THAT(text, Not(HasSubstr("dstrain_job_loss{job_id=\"j-2\"")));
  EXPECT_THAT(text, HasSubstr("dstrain_job_startup_seconds{job_id=\"j-1\",name="
                              "\"name-j-1\"} 3.25\n"));
  EXPECT_THAT(
      text,
      HasSubstr("dstrain_job_step_seconds{job_id=\"j-1\",name=\"name-j-1\","
                "quantile=\"0.5\"} 0.5\n"));
  EXPECT_THAT(text, HasSubstr("quantile=\"0.9\"} 0.9"));
  EXPECT_THAT(text, HasSubstr("quantile=\"0.99\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_job_step_seconds_sum{job_id=\"j-1\","
                              "name=\"name-j-1\"} 12.5\n"));
  EXPECT_THAT(text, HasSubstr("dstrain_job_step_seconds_count{job_id=\"j-1\","
                              "name=\"name-j-1\"} 40\n"));
  // Per-rank series only when asked for.
  EXPECT_THAT(text, Not(HasSubstr("dstrain_rank_")));
}

TEST(CoordinatorMetricsTest, PerRankGaugesWhenAskedFor) {
  MetricsOptions o;
  o.per_rank = true;
  const std::string text = WriteExposition(CoordinatorMetrics(Snapshot(), o));
  EXPECT_THAT(text,
              HasSubstr("dstrain_rank_step_seconds{job_id=\"j-1\",rank=\"1\","
                        "host=\"node-b\"} 1.5\n"));
  EXPECT_THAT(text,
              HasSubstr("dstrain_rank_comm_seconds{job_id=\"j-1\",rank=\"0\","
                        "host=\"node-a\"} 0.125\n"));
  EXPECT_THAT(text,
              HasSubstr("dstrain_rank_peak_rss_bytes{job_id=\"j-1\",rank=\"0\","
                        "host=\"node-a\"} 1048576\n"));
}

TEST(CoordinatorMetricsTest, QuantileIsTheNearestRank) {
  EXPECT_TRUE(std::isnan(Quantile({}, 0.5)));
  EXPECT_EQ(Quantile({3, 1, 2}, 0.5), 2);
  EXPECT_EQ(Quantile({3, 1, 2}, 0.0), 1);
  EXPECT_EQ(Quantile({3, 1, 2}, 1.0), 3);
  EXPECT_EQ(Quantile({1, 2, 3, 4}, 0.5), 2);
}

}  // namespace
}  // namespace dstrain::coordinator::http
