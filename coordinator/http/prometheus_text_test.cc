#include "coordinator/http/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace dstrain::coordinator::http {
namespace {

TEST(PrometheusTextTest, FamiliesAreWrittenWithHelpTypeAndEscapedLabels) {
  MetricFamily jobs;
  jobs.name = "dstrain_jobs";
  jobs.help = "Jobs known, by state.\nSecond line \\ here.";
  jobs.Add({{"state", "running"}}, 2).Add({{"state", "pending"}}, 0);
  MetricFamily step;
  step.name = "dstrain_job_step_seconds";
  step.help = "Step time.";
  step.type = MetricType::kSummary;
  step.Add({{"job_id", "j-1"},
            {"name", "a \"quoted\"\\name\n"},
            {"quantile", "0.5"}},
           0.25);
  step.Add({{"job_id", "j-1"}}, 12.5, "_sum")
      .Add({{"job_id", "j-1"}}, 50, "_count");
  MetricFamily empty;
  empty.name = "dstrain_nothing";
  empty.help = "No series.";
  empty.type = MetricType::kCounter;
  EXPECT_EQ(
      WriteExposition({jobs, step, empty}),
      "# HELP dstrain_jobs Jobs known, by state.\\nSecond line \\\\ here.\n"
      "# TYPE dstrain_jobs gauge\n"
      "dstrain_jobs{state=\"running\"} 2\n"
      "dstrain_jobs{state=\"pending\"} 0\n"
      "# HELP dstrain_job_step_seconds Step time.\n"
      "# TYPE dstrain_job_step_seconds summary\n"
      "dstrain_job_step_seconds{job_id=\"j-1\",name=\"a "
      "\\\"quoted\\\"\\\\name\\n\","
      "quantile=\"0.5\"} 0.25\n"
      "dstrain_job_step_seconds_sum{job_id=\"j-1\"} 12.5\n"
      "dstrain_job_step_seconds_count{job_id=\"j-1\"} 50\n"
      "# HELP dstrain_nothing No series.\n"
      "# TYPE dstrain_nothing counter\n");
}

TEST(PrometheusTextTest, ValuesReadBackExactly) {
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()),
            "-Inf");
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(1e300), "1e+300");
  EXPECT_EQ(FormatSampleValue(123456789012.0), "123456789012");
  for (double v : {1.0 / 3.0, 2.5e-9, 6.02214076e23, -0.0001}) {
    EXPECT_EQ(std::stod(FormatSampleValue(v)), v);
  }
}

}  // namespace
}  // namespace dstrain::coordinator::http
