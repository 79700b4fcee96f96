#include "agent/metrics_reporter.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <mutex>

#include "tests/util/wait_for.h"

namespace dstrain::agent {
namespace {

using namespace std::chrono_literals;

// Records every call in order; fails the first `exit_failures` exit reports
// with `exit_error`.
class RecordingSink : public ReportSink {
 public:
  Status ReportMetrics(const proto::ReportMetricsRequest& r,
                       std::chrono::milliseconds timeout) override {
    std::lock_guard<std::mutex> lock(mu_);
    timeouts_.push_back(timeout);
    calls_.push_back("metrics:" + std::to_string(r.metrics_size()) + "/" +
                     std::to_string(r.results_size()) + "@" + r.job_id() + "#" +
                     std::to_string(r.attempt()) + " node=" + r.node_id());
    if (metrics_failures_ > 0) {
      --metrics_failures_;
      calls_.back() += " (failed)";
      return metrics_error_;
    }
    return Status::Ok();
  }
  Status ReportWorkerExit(const std::string& node_id, const std::string& job_id,
                          int attempt, const proto::WorkerExit& e,
                          std::chrono::milliseconds timeout) override {
    std::lock_guard<std::mutex> lock(mu_);
    timeouts_.push_back(timeout);
    calls_.push_back("exit:" + std::to_string(e.rank()) + "@" + job_id + "#" +
                     std::to_string(attempt) + " node=" + node_id);
    if (exit_failures_ > 0) {
      --exit_failures_;
      calls_.back() += " (failed)";
      return exit_error_;
    }
    return Status::Ok();
  }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<std::chrono::milliseconds> timeouts() {
    std::lock_guard<std::mutex> lock(mu_);
    return timeouts_;
  }
  void FailMetrics(int n, Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    metrics_failures_ = n;
    metrics_error_ = error;
  }
  void FailExits(int n, Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    exit_failures_ = n;
    exit_error_ = error;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> calls_;
  std::vector<std::chrono::milliseconds> timeouts_;
  int exit_failures_ = 0;
  Status exit_error_;
  int metrics_failures_ = 0;
  Status metrics_error_;
};

proto::StepMetrics Step(int rank, int step) {
  proto::StepMetrics m;
  m.set_job_id("j");
  m.set_attempt(0);
  m.set_rank(rank);
  m.set_step(step);
  return m;
}

MetricsReporterOptions NoTimer(int batch = 1000) {
  MetricsReporterOptions o;
  o.flush_interval = std::chrono::hours(1);  // only size or exits send
  o.batch_lines = batch;
  o.retry_for = 10s;
  o.on_warning = [](const std::string&) {};
  return o;
}

TEST(MetricsReporterTest, ExitFlushesMetricsAndResultFirst) {
  RecordingSink sink;
  MetricsReporter rep(
      &sink, [] { return "n1"; }, NoTimer());
  rep.AddStep(Step(0, 1));
  rep.AddStep(Step(0, 2));
  proto::RankResult res;
  res.set_rank(0);
  rep.AddResult("j", 0, res);
  proto::WorkerExit e;
  e.set_rank(0);
  rep.AddExit("j", 0, e);
  rep.Flush();
  EXPECT_EQ(sink.calls(), (std::vector<std::string>{"metrics:2/1@j#0 node=n1",
                                                    "exit:0@j#0 node=n1"}));
}

TEST(MetricsReporterTest, SendsWhenABatchIsFull) {
  RecordingSink sink;
  MetricsReporter rep(
      &sink, [] { return "n1"; }, NoTimer(/*batch=*/3));
  rep.AddStep(Step(0, 1));
  rep.AddStep(Step(1, 1));
  rep.AddStep(Step(0, 2));
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return sink.calls().size() == 1; }, 5s));
  EXPECT_EQ(sink.calls()[0], "metrics:3/0@j#0 node=n1");
}

TEST(MetricsReporterTest, SendsOnTheTimer) {
  RecordingSink sink;
  MetricsReporterOptions o = NoTimer();
  o.flush_interval = 20ms;
  MetricsReporter rep(
      &sink, [] { return "n1"; }, o);
  rep.AddStep(Step(0, 1));
  EXPECT_TRUE(
      dstrain::testing::WaitFor([&] { return sink.calls().size() == 1; }, 5s));
}

TEST(MetricsReporterTest, GroupsByJobAttempt) {
  RecordingSink sink;
  MetricsReporter rep(
      &sink, [] { return "n1"; }, NoTimer());
  rep.AddStep(Step(0, 1));
  proto::StepMetrics other = Step(0, 1);
  other.set_job_id("k");
  other.set_attempt(2);
  rep.AddStep(other);
  rep.Flush();
  auto calls = sink.calls();
  std::sort(calls.begin(), calls.end());
  EXPECT_EQ(calls, (std::vector<std::string>{"metrics:1/0@j#0 node=n1",
                                             "metrics:1/0@k#2 node=n1"}));
}

TEST(MetricsReporterTest, RetriesTransientExitFailures) {
  RecordingSink sink;
  sink.FailExits(2, Unavailable("coordinator restarting"));
  MetricsReporter rep(
      &sink, [] { return "n1"; }, NoTimer());
  proto::WorkerExit e;
  e.set_rank(1);
  rep.AddExit("j", 0, e);
  rep.Flush();
  EXPECT_EQ(sink.calls().size(), 3u);
}

TEST(MetricsReporterTest, DoesNotRetryRefusedExits) {
  RecordingSink sink;
  sink.FailExits(5, InvalidArgument("rank 9 is not in job j"));
  std::vector<std::string> warnings;
  MetricsReporterOptions o = NoTimer();
  o.on_warning = [&](const std::string& w) { warnings.push_back(w); };
  MetricsReporter rep(
      &sink, [] { return "n1"; }, o);
  proto::WorkerExit e;
  e.set_rank(9);
  rep.AddExit("j", 0, e);
  rep.Flush();
  EXPECT_EQ(sink.calls().size(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("rank 9 is not in job j"), std::string::npos);
}

TEST(MetricsReporterTest, StopSendsWhatIsQueued) {
  RecordingSink sink;
  {
    MetricsReporter rep(
        &sink, [] { return "n1"; }, NoTimer());
    rep.AddStep(Step(0, 1));
  }
  EXPECT_EQ(sink.calls(),
            (std::vector<std::string>{"metrics:1/0@j#0 node=n1"}));
}

// The coordinator is gone and exits would be retried for an hour: Stop()
// still returns, within its budget, and no call was given longer than the
// budget (an agent's SIGTERM must not hang on a dead coordinator).
TEST(MetricsReporterTest, StopGivesUpWithinItsBudgetWhenNobodyAnswers) {
  RecordingSink sink;
  sink.FailExits(1 << 30, Status(StatusCode::kUnavailable, "gone"));
  std::vector<std::string> warnings;
  std::mutex warnings_mu;
  MetricsReporterOptions o = NoTimer();
  o.retry_for = std::chrono::hours(1);
  o.call_timeout = 50ms;
  o.stop_budget = 200ms;
  o.on_warning = [&](const std::string& w) {
    std::lock_guard<std::mutex> lock(warnings_mu);
    warnings.push_back(w);
  };
  auto rep = std::make_unique<MetricsReporter>(
      &sink, [] { return "n1"; }, o);
  for (int rank = 0; rank < 4; ++rank) {
    proto::WorkerExit e;
    e.set_rank(rank);
    rep->AddExit("j", 0, e);
  }
  ASSERT_TRUE(
      dstrain::testing::WaitFor([&] { return !sink.calls().empty(); }, 5s));
  std::future<void> stopped =
      std::async(std::launch::async, [&] { rep->Stop(); });
  ASSERT_EQ(stopped.wait_for(30s), std::future_status::ready)
      << "Stop() is still retrying exits to a coordinator that is gone";
  for (std::chrono::milliseconds t : sink.timeouts()) {
    EXPECT_GT(t.count(), 0);
    EXPECT_LE(t, o.call_timeout);
  }
  std::lock_guard<std::mutex> lock(warnings_mu);
  int given_up = 0;
  for (const std::string& w : warnings) {
    given_up += w.rfind("could not report the exit", 0) == 0 ? 1 : 0;
  }
  EXPECT_EQ(given_up, 4);  // each exit given up, and said so
  EXPECT_TRUE(rep->UndeliveredExits().empty());
}

// A coordinator that restarts: metrics, results and exits reported while
// it is away wait and go out, in order, once it answers again.
TEST(MetricsReporterTest, NothingIsLostWhileTheCoordinatorIsAway) {
  RecordingSink sink;
  sink.FailMetrics(3, Status(StatusCode::kUnavailable, "restarting"));
  sink.FailExits(2, Status(StatusCode::kUnavailable, "restarting"));
  MetricsReporterOptions o = NoTimer(/*batch=*/1);
  MetricsReporter rep(
      &sink, [] { return "n1"; }, o);
  rep.AddStep(Step(0, 1));
  rep.AddStep(Step(0, 2));
  proto::WorkerExit e;
  e.set_rank(0);
  rep.AddExit("j", 0, e);
  ASSERT_EQ(rep.UndeliveredExits().size(), 1u);
  EXPECT_EQ(rep.UndeliveredExits()[0].rank, 0);
  rep.Flush();
  std::vector<std::string> delivered;
  for (const std::string& c : sink.calls()) {
    if (c.find("(failed)") == std::string::npos) delivered.push_back(c);
  }
  ASSERT_GE(delivered.size(), 2u);
  EXPECT_EQ(delivered.back(), "exit:0@j#0 node=n1");
  int steps = 0;
  for (const std::string& c : delivered) {
    if (c.rfind("metrics:", 0) == 0) steps += std::stoi(c.substr(8));
  }
  EXPECT_EQ(steps, 2);  // both steps, each once
  EXPECT_TRUE(rep.UndeliveredExits().empty());
}

}  // namespace
}  // namespace dstrain::agent
