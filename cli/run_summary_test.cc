#include "cli/run_summary.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

namespace dstrain::cli {
namespace {

google::protobuf::Struct Parse(const std::string& json) {
  google::protobuf::Struct s;
  auto st = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(st.ok()) << st.ToString() << " in " << json;
  return s;
}

std::vector<proto::StepMetrics> History(int n) {
  std::vector<proto::StepMetrics> h;
  for (int i = 1; i <= n; ++i) {
    proto::StepMetrics m;
    m.set_step(i);
    m.set_total_steps(n);
    m.set_loss(10.0 - i * 0.5);
    m.set_tokens_per_s(i == 1 ? 10 : 100);
    h.push_back(m);
  }
  return h;
}

proto::JobStatus Status2Ranks(const std::string& d0, const std::string& d1) {
  proto::JobStatus st;
  st.set_job_id("j-1");
  st.set_state(proto::JOB_SUCCEEDED);
  st.set_world_size(2);
  for (int r : {1, 0}) {
    auto* res = st.add_results();
    res->set_rank(r);
    res->set_steps(12);
    res->set_param_digest(r == 0 ? d0 : d1);
    res->set_param_count(1000);
    auto* e = st.add_exits();
    e->set_rank(r);
  }
  return st;
}

TEST(RunSummaryTest, ComputesTheNumbers) {
  RunSummary s =
      BuildSummary("charlm", Status2Ranks("ab", "ab"), History(12), 7.5);
  EXPECT_EQ(s.state, "SUCCEEDED");
  EXPECT_EQ(s.steps, 12);
  EXPECT_EQ(s.total_steps, 12);
  EXPECT_DOUBLE_EQ(*s.first_loss, 9.5);
  EXPECT_DOUBLE_EQ(*s.final_loss, 4.0);
  // Steps 3..12: losses 8.5 .. 4.0, mean 6.25.
  EXPECT_DOUBLE_EQ(*s.mean_last10_loss, 6.25);
  // The first step (start-up) is left out of the mean.
  EXPECT_DOUBLE_EQ(*s.mean_tokens_per_s, 100.0);
  ASSERT_EQ(s.results.size(), 2u);
  EXPECT_EQ(s.results[0].rank(), 0);
  EXPECT_TRUE(s.ParamDigestsAgree());
  EXPECT_FALSE(BuildSummary("c", Status2Ranks("ab", "cd"), History(2), 1)
                   .ParamDigestsAgree());
}

TEST(RunSummaryTest, NoStepsMeansNoNumbers) {
  proto::JobStatus st;
  st.set_state(proto::JOB_FAILED);
  st.set_reason("rank 1 on vm was killed by SIGKILL");
  RunSummary s = BuildSummary("charlm", st, {}, 1);
  EXPECT_FALSE(s.first_loss.has_value());
  auto json = Parse(SummaryJson(s));
  EXPECT_EQ(json.fields().at("state").string_value(), "FAILED");
  EXPECT_EQ(json.fields().at("reason").string_value(),
            "rank 1 on vm was killed by SIGKILL");
  EXPECT_TRUE(json.fields().at("first_loss").has_null_value());
  EXPECT_NE(SummaryText(s).find("reason:      rank 1 on vm"),
            std::string::npos);
}

TEST(RunSummaryTest, JsonCarriesRanksAndLosses) {
  RunSummary s =
      BuildSummary("charlm", Status2Ranks("ab", "ab"), History(3), 2.0);
  s.metrics_path = "/r/metrics.jsonl";
  auto json = Parse(SummaryJson(s));
  EXPECT_EQ(json.fields().at("losses").list_value().values_size(), 3);
  const auto& ranks = json.fields().at("ranks").list_value();
  ASSERT_EQ(ranks.values_size(), 2);
  EXPECT_EQ(
      ranks.values(1).struct_value().fields().at("param_digest").string_value(),
      "ab");
  EXPECT_TRUE(json.fields().at("param_digests_agree").bool_value());
  EXPECT_EQ(json.fields().at("metrics").string_value(), "/r/metrics.jsonl");
}

TEST(RunSummaryTest, MetricsLineHasTheRequiredFields) {
  proto::StepMetrics m;
  m.set_step(7);
  m.set_loss(2.5);
  m.set_lr(0.001);
  m.set_tokens_per_s(1234.5);
  m.set_step_time_s(0.25);
  m.set_peak_rss_bytes(1LL << 40);
  auto json = Parse(StepMetricsJson(m));
  EXPECT_EQ(json.fields().at("step").number_value(), 7);
  EXPECT_EQ(json.fields().at("loss").number_value(), 2.5);
  EXPECT_EQ(json.fields().at("lr").number_value(), 0.001);
  EXPECT_EQ(json.fields().at("tokens_per_s").number_value(), 1234.5);
  EXPECT_EQ(json.fields().at("step_time_s").number_value(), 0.25);
  EXPECT_EQ(json.fields().at("peak_rss_bytes").number_value(), 1099511627776.0);
  EXPECT_EQ(StepMetricsJson(m).find('\n'), std::string::npos);
}

}  // namespace
}  // namespace dstrain::cli
