// A real Prometheus (Debian's `prometheus`) scrapes a coordinator's
// /metrics every second with the viewer token, while an agent runs a job
// to its end; Prometheus' own query API then holds the job's values: its
// step at the total, its loss as metrics.jsonl's last row, one job
// succeeded and none queued. Skips, saying so, where `prometheus` is not
// installed.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "common/loopback_port.h"
#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;
using testing::WaitFor;

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

class PrometheusTest : public testing::DstrainTest {
 protected:
  void TearDown() override {
    for (auto* p : {&prometheus_, &agent_, &coord_}) {
      if (*p == nullptr || (*p)->exited()) continue;
      (*p)->Signal(SIGTERM);
      (*p)->Wait(20s);
    }
    DstrainTest::TearDown();
  }

  // One instant query through Prometheus' HTTP API; the first series'
  // value, NaN when there is none (yet).
  double Query(const std::string& promql) {
    httplib::Client client("127.0.0.1", prometheus_port_);
    httplib::Params params{{"query", promql}};
    httplib::Result r = client.Get("/api/v1/query", params, httplib::Headers{},
                                   httplib::Progress());
    if (!r || r->status != 200) return NAN;
    google::protobuf::Struct reply = testing::ParseJson(r->body);
    const auto& data = reply.fields().at("data").struct_value();
    const auto& result = data.fields().at("result").list_value();
    if (result.values_size() == 0) return NAN;
    const auto& value =
        result.values(0).struct_value().fields().at("value").list_value();
    return std::stod(value.values(1).string_value());
  }

  std::unique_ptr<Subprocess> coord_, agent_, prometheus_;
  int prometheus_port_ = 0;
};

TEST_F(PrometheusTest, ARealPrometheusScrapesTheJobsValues) {
  const std::string prometheus = FindOnPath("prometheus");
  if (prometheus.empty()) {
    GTEST_SKIP() << "no `prometheus` on PATH (Debian's package `prometheus`; "
                    "deploy/bootstrap.sh installs it)";
  }
  const std::string op = WriteTokenFile("operator", "prometheus-test-operator");
  const std::string viewer =
      WriteTokenFile("viewer", "prometheus-test-viewer00");
  std::string address;
  coord_ = StartCoordinator(
      op, &address, {"--http", "127.0.0.1:0", "--viewer-token-file", viewer});
  ASSERT_TRUE(coord_);
  std::string http;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string out = coord_->Stdout();
        const std::size_t at = out.find("HTTP on http://");
        if (at == std::string::npos) return false;
        const std::size_t start = at + std::string("HTTP on http://").size();
        http = out.substr(start, out.find(' ', start) - start);
        return true;
      },
      30s))
      << coord_->Stdout();
  agent_ = StartDstrain({"agent", "--coordinator", address, "--token-file", op,
                         "--listen", "127.0.0.1:0", "--hostname", "node-p"});
  ASSERT_TRUE(agent_);

  prometheus_port_ = FreeLoopbackPort();
  ASSERT_GT(prometheus_port_, 0);
  const std::string config = WriteFile("prometheus.yml",
                                       "global:\n"
                                       "  scrape_interval: 1s\n"
                                       "  evaluation_interval: 1s\n"
                                       "scrape_configs:\n"
                                       "  - job_name: dstrain\n"
                                       "    scrape_interval: 1s\n"
                                       "    authorization:\n"
                                       "      type: Bearer\n"
                                       "      credentials_file: " +
                                           viewer +
                                           "\n"
                                           "    static_configs:\n"
                                           "      - targets: ['" +
                                           http + "']\n");
  std::string error;
  testing::SubprocessOptions po;
  po.argv = {
      prometheus, "--config.file=" + config,
      "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
      "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port_),
      "--log.level=warn"};
  po.working_dir = dir_.string();
  prometheus_ = Subprocess::Start(po, &error);
  ASSERT_TRUE(prometheus_) << error;
  // Prometheus has scraped the coordinator once `up` is 1.
  ASSERT_TRUE(WaitFor([&] { return Query("up{job=\"dstrain\"}") == 1; }, 60s))
      << prometheus_->Stderr();

  const int kSteps = 30;
  const std::string job =
      WriteFile("job.yaml", testing::TinyJobYaml("scraped", kSteps));
  const std::filesystem::path run = LaunchToSuccess(
      job, "run", {"--coordinator", address, "--token-file", op});
  std::vector<google::protobuf::Struct> rows =
      testing::ReadJsonLines(run / "metrics.jsonl");
  ASSERT_FALSE(rows.empty());
  const double last_loss = testing::Num(rows.back(), "loss");

  ASSERT_TRUE(WaitFor(
      [&] {
        return Query("dstrain_jobs{state=\"succeeded\"}") == 1 &&
               Query("dstrain_job_step{name=\"scraped\"}") == kSteps;
      },
      60s))
      << "Prometheus never saw the job succeed at step " << kSteps;
  EXPECT_EQ(Query("dstrain_job_total_steps{name=\"scraped\"}"), kSteps);
  EXPECT_NEAR(Query("dstrain_job_loss{name=\"scraped\"}"), last_loss,
              1e-6 * std::abs(last_loss));
  EXPECT_EQ(Query("dstrain_queue_length"), 0);
  EXPECT_EQ(Query("dstrain_nodes{state=\"alive\"}"), 1);
  EXPECT_EQ(Query("dstrain_job_step_seconds_count{name=\"scraped\"}"), kSteps);
  EXPECT_GT(Query("dstrain_job_startup_seconds{name=\"scraped\"}"), 0);
}

}  // namespace
}  // namespace dstrain
