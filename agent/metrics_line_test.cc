#include "agent/metrics_line.h"

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>

#include "common/contract/metrics_lines.h"
#include "common/testing/status_matchers.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

// Every field a worker writes (common/contract/metrics_lines.h), each set to
// a value of its own, comes back in the proto the agent forwards, and the
// proto has no field the worker does not write: the two sides cannot drift.
TEST(MetricsLineTest, EveryFieldTheWorkerWritesRoundTrips) {
  contract::LineLabels labels{"job-1", 3, 2};
  contract::StepMetrics s;
  s.step = 7;
  s.total_steps = 300;
  s.loss = 2.5;
  s.lr = 0.125;
  s.grad_norm = 1.5;
  s.tokens_per_s = 1000;
  s.step_time_s = 0.25;
  s.comm_time_s = 0.0625;
  s.loss_scale = 32768;
  s.skipped = true;
  s.skipped_steps = 4;
  s.elapsed_s = 10.5;
  s.peak_rss_bytes = 123456789012;
  s.param_bytes = 11;
  s.grad_bytes = 12;
  s.optimizer_bytes = 13;
  s.model_state_peak_bytes = 14;
  s.activation_peak_bytes = 15;
  s.checkpoint_s = 1.75;
  s.device_peak_bytes = 16;
  const std::string line = contract::StepLine(labels, s);
  auto m = ParseMetricsLine(line);
  ASSERT_THAT(m, IsOk()) << m.status().ToString();
  proto::StepMetrics want;
  want.set_job_id("job-1");
  want.set_rank(3);
  want.set_attempt(2);
  want.set_step(7);
  want.set_total_steps(300);
  want.set_loss(2.5);
  want.set_lr(0.125);
  want.set_grad_norm(1.5);
  want.set_tokens_per_s(1000);
  want.set_step_time_s(0.25);
  want.set_comm_time_s(0.0625);
  want.set_loss_scale(32768);
  want.set_skipped(true);
  want.set_skipped_steps(4);
  want.set_elapsed_s(10.5);
  want.set_peak_rss_bytes(123456789012);
  want.set_param_bytes(11);
  want.set_grad_bytes(12);
  want.set_optimizer_bytes(13);
  want.set_model_state_peak_bytes(14);
  want.set_activation_peak_bytes(15);
  want.set_checkpoint_s(1.75);
  want.set_device_peak_bytes(16);
  EXPECT_EQ(m->step.SerializeAsString(), want.SerializeAsString())
      << m->step.DebugString();
  // Every proto field is one the line names.
  const google::protobuf::Descriptor* d = proto::StepMetrics::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    EXPECT_NE(line.find("\"" + d->field(i)->name() + "\":"), std::string::npos)
        << "proto StepMetrics." << d->field(i)->name()
        << " is not written by the worker";
  }

  contract::RankResult r{20, 1.75, "00ff00ff00ff00ff", 4096};
  const std::string result_line = contract::ResultLine(labels, r);
  auto res = ParseMetricsLine(result_line);
  ASSERT_THAT(res, IsOk()) << res.status().ToString();
  EXPECT_EQ(res->result.rank(), 3);
  EXPECT_EQ(res->result.steps(), 20);
  EXPECT_EQ(res->result.final_loss(), 1.75);
  EXPECT_EQ(res->result.param_digest(), "00ff00ff00ff00ff");
  EXPECT_EQ(res->result.param_count(), 4096);
  const google::protobuf::Descriptor* rd = proto::RankResult::descriptor();
  for (int i = 0; i < rd->field_count(); ++i) {
    EXPECT_NE(result_line.find("\"" + rd->field(i)->name() + "\":"),
              std::string::npos)
        << "proto RankResult." << rd->field(i)->name()
        << " is not written by the worker";
  }
}

TEST(MetricsLineTest, ParsesStep) {
  auto m = ParseMetricsLine(
      R"({"type":"step","rank":1,"step":7,"total_steps":20,"loss":2.5,)"
      R"("lr":0.001,"tokens_per_s":1234.5,"step_time_s":0.25,)"
      R"("peak_rss_bytes":1048576,"future_field":[1,2]})");
  ASSERT_THAT(m, IsOk()) << m.status().ToString();
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
  ASSERT_THAT(m, IsOk()) << m.status().ToString();
  EXPECT_EQ(m->kind, MetricsLine::Kind::kResult);
  EXPECT_EQ(m->result.steps(), 20);
  EXPECT_DOUBLE_EQ(m->result.final_loss(), 1.75);
  EXPECT_EQ(m->result.param_digest(), "00ff00ff00ff00ff");
  EXPECT_EQ(m->result.param_count(), 4096);
}

TEST(MetricsLineTest, RejectsBadLines) {
  EXPECT_THAT(ParseMetricsLine("step 3 loss 2.0"), Not(IsOk()));
  EXPECT_THAT(ParseMetricsLine(R"({"step":3})"), Not(IsOk()));
  EXPECT_THAT(ParseMetricsLine(R"({"type":3})"), Not(IsOk()));
  auto unknown = ParseMetricsLine(R"({"type":"bogus"})");
  ASSERT_THAT(unknown, Not(IsOk()));
  EXPECT_NE(unknown.status().message().find("bogus"), std::string::npos);
  EXPECT_THAT(ParseMetricsLine(R"({"type":"step","loss":"high"})"),
              Not(IsOk()));
}

}  // namespace
}  // namespace dstrain::agent
