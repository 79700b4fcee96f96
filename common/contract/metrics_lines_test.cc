#include "common/contract/metrics_lines.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace dstrain::contract {
namespace {

TEST(MetricsLinesTest, StepLineHasProtoFieldNamesInOneLine) {
  LineLabels ctx;
  ctx.job_id = "job-\"1\"";
  ctx.rank = 3;
  ctx.attempt = 2;
  StepMetrics r;
  r.step = 7;
  r.total_steps = 300;
  r.loss = 2.5;
  r.lr = 0.1;
  r.grad_norm = 1.0 / 3.0;
  r.tokens_per_s = 1000;
  r.step_time_s = 0.25;
  r.comm_time_s = 0.125;
  r.data_wait_s = 0.0625;
  r.loss_scale = 32768;
  r.skipped = true;
  r.skipped_steps = 2;
  r.elapsed_s = 10;
  r.peak_rss_bytes = 123456789012LL;
  r.param_bytes = 1;
  r.grad_bytes = 2;
  r.optimizer_bytes = 3;
  r.model_state_peak_bytes = 4;
  r.activation_peak_bytes = 5;
  r.checkpoint_s = 1.5;
  r.device_peak_bytes = 6;
  EXPECT_EQ(StepLine(ctx, r),
            "{\"type\":\"step\",\"job_id\":\"job-\\\"1\\\"\",\"rank\":3,"
            "\"attempt\":2,\"step\":7,\"total_steps\":300,\"loss\":2.5,"
            "\"lr\":0.1,\"grad_norm\":0.3333333333333333,"
            "\"tokens_per_s\":1000,\"step_time_s\":0.25,"
            "\"comm_time_s\":0.125,\"data_wait_s\":0.0625,"
            "\"loss_scale\":32768,\"skipped\":true,"
            "\"skipped_steps\":2,\"elapsed_s\":10,"
            "\"peak_rss_bytes\":123456789012,\"param_bytes\":1,"
            "\"grad_bytes\":2,\"optimizer_bytes\":3,"
            "\"model_state_peak_bytes\":4,\"activation_peak_bytes\":5,"
            "\"checkpoint_s\":1.5,\"device_peak_bytes\":6}\n");
}

TEST(MetricsLinesTest, NonFiniteNumbersAreNull) {
  StepMetrics r;
  r.loss = std::nan("");
  r.lr = std::numeric_limits<double>::infinity();
  const std::string line = StepLine({}, r);
  EXPECT_NE(line.find("\"loss\":null,"), std::string::npos);
  EXPECT_NE(line.find("\"lr\":null,"), std::string::npos);
}

TEST(MetricsLinesTest, ResultLine) {
  LineLabels ctx;
  ctx.rank = 1;
  RankResult res;
  res.steps = 20;
  res.final_loss = 1.5;
  res.param_digest = "0123456789abcdef";
  res.param_count = 437760;
  EXPECT_EQ(ResultLine(ctx, res),
            "{\"type\":\"result\",\"rank\":1,\"steps\":20,\"final_loss\":1.5,"
            "\"param_digest\":\"0123456789abcdef\",\"param_count\":437760}\n");
}

}  // namespace
}  // namespace dstrain::contract
