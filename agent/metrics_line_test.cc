#include "agent/metrics_line.h"

#include <gtest/gtest.h>

namespace dstrain::agent {
namespace {

TEST(MetricsLineTest, ParsesStep) {
  auto m = ParseMetricsLine(
      R"({"type":"step","rank":1,"step":7,"total_steps":20,"loss":2.5,)"
      R"("lr":0.001,"tokens_per_s":1234.5,"step_time_s":0.25,)"
      R"("peak_rss_bytes":1048576,"future_field":[1,2]})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, MetricsLine::Kind::kStep);
  EXPECT_EQ(m->step.rank(), 1);
  EXPECT_EQ(m->step.step(), 7);
  EXPECT_EQ(m->step.total_steps(), 20);
  EXPECT_DOUBLE_EQ(m->step.loss(), 2.5);
  EXPECT_DOUBLE_EQ(m->step.lr(), 0.001);
  EXPECT_DOUBLE_EQ(m->step.tokens_per_s(), 1234.5);
  EXPECT_DOUBLE_EQ(m->step.step_time_s(), 0.25);
  EXPECT_EQ(m->step.peak_rss_bytes(), 1048576);
}

TEST(MetricsLineTest, ParsesResult) {
  auto m = ParseMetricsLine(
      R"({"type":"result","rank":0,"steps":20,"final_loss":1.75,)"
      R"("param_digest":"00ff00ff00ff00ff","param_count":4096})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, MetricsLine::Kind::kResult);
  EXPECT_EQ(m->result.steps(), 20);
  EXPECT_DOUBLE_EQ(m->result.final_loss(), 1.75);
  EXPECT_EQ(m->result.param_digest(), "00ff00ff00ff00ff");
  EXPECT_EQ(m->result.param_count(), 4096);
}

TEST(MetricsLineTest, RejectsBadLines) {
  EXPECT_FALSE(ParseMetricsLine("step 3 loss 2.0").ok());
  EXPECT_FALSE(ParseMetricsLine(R"({"step":3})").ok());
  EXPECT_FALSE(ParseMetricsLine(R"({"type":3})").ok());
  auto unknown = ParseMetricsLine(R"({"type":"bogus"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("bogus"), std::string::npos);
  EXPECT_FALSE(ParseMetricsLine(R"({"type":"step","loss":"high"})").ok());
}

}  // namespace
}  // namespace dstrain::agent
