// The coordinator's HTTP port on a real CoordinatorServer, read with
// cpp-httplib's client: /metrics only for a credential that may read, in
// Prometheus' format with the coordinator's live values; /healthz for
// anyone; a port in use refused in one line.
#include "coordinator/http/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"

namespace dstrain::coordinator::http {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kOperator[] = "http-test-operator-token";
constexpr char kNode[] = "http-test-node-token-0000";
constexpr char kViewer[] = "http-test-viewer-token-00";

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorOptions o;
    o.token = kOperator;
    o.node_token = kNode;
    o.viewer_token = kViewer;
    StatusOr<std::unique_ptr<CoordinatorServer>> c =
        CoordinatorServer::Start(o);
    ASSERT_THAT(c, IsOk());
    coordinator_ = std::move(c).value();
    HttpOptions h;
    h.listen = "127.0.0.1:0";
    h.version = "1.2.3";
    StatusOr<std::unique_ptr<HttpServer>> s =
        HttpServer::Start(h, coordinator_.get());
    ASSERT_THAT(s, IsOk());
    http_ = std::move(s).value();
    ASSERT_EQ(http_->url().rfind("http://127.0.0.1:", 0), 0u) << http_->url();
    client_ = std::make_unique<httplib::Client>(http_->url());
  }
  void TearDown() override {
    if (http_) http_->Shutdown();
    if (coordinator_) coordinator_->Shutdown();
  }
  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Get(path.c_str(), headers);
  }

  std::unique_ptr<CoordinatorServer> coordinator_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, MetricsNeedACredentialThatMayRead) {
  httplib::Result none = Get("/metrics", "");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_THAT(none->body, HasSubstr("Authorization: Bearer TOKEN"));
  httplib::Result wrong = Get("/metrics", "not-a-token-of-this-cluster");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  httplib::Result node = Get("/metrics", kNode);
  ASSERT_TRUE(node);
  EXPECT_EQ(node->status, 403);
  EXPECT_THAT(node->body,
              HasSubstr("a node credential may not call GET /metrics"));
  for (const char* token : {kViewer, kOperator}) {
    httplib::Result ok = Get("/metrics", token);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(ok->get_header_value("Content-Type"), kExpositionContentType);
  }
  httplib::Result health = Get("/healthz", "");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  httplib::Result missing = Get("/nothing-here", kViewer);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(HttpServerTest, MetricsShowTheCoordinatorsJobs) {
  CoordinatorClient client(coordinator_->address(), kOperator);
  proto::JobSpec spec;
  spec.set_name("waits");
  spec.set_procs_per_node(1);
  spec.set_nodes_min(1);
  StatusOr<std::string> id = client.LaunchJob(spec);  // no node: pending
  ASSERT_THAT(id, IsOk());
  httplib::Result r = Get("/metrics", kViewer);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("dstrain_build_info{version=\"1.2.3\"} 1\n"));
  EXPECT_THAT(r->body, HasSubstr("dstrain_queue_length 1\n"));
  EXPECT_THAT(r->body, HasSubstr("dstrain_jobs{state=\"pending\"} 1\n"));
  EXPECT_THAT(r->body, HasSubstr("dstrain_job_info{job_id=\"" + *id +
                                 "\",name=\"waits\",state=\"pending\"} 1\n"));
  EXPECT_THAT(r->body, HasSubstr("# TYPE dstrain_job_step_seconds summary\n"));
}

TEST_F(HttpServerTest, ThePageIsServedAndItsDataNeedsACredential) {
  httplib::Result page = Get("/", "");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(page->body, HasSubstr("id=\"rank-table\""));
  // Nothing fetched from elsewhere (no CDN): no external script, style
  // sheet or image.
  for (const char* external :
       {"src=\"http", "href=\"http", "<link", "@import", "url(http"}) {
    EXPECT_EQ(page->body.find(external), std::string::npos) << external;
  }
  for (const char* path : {"/api/jobs", "/api/nodes", "/api/jobs/j-1"}) {
    httplib::Result none = Get(path, "");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401) << path;
  }
  CoordinatorClient client(coordinator_->address(), kOperator);
  proto::JobSpec spec;
  spec.set_name("listed");
  spec.set_procs_per_node(1);
  spec.set_nodes_min(1);
  StatusOr<std::string> id = client.LaunchJob(spec);
  ASSERT_THAT(id, IsOk());
  httplib::Result jobs = Get("/api/jobs", kViewer);
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->status, 200);
  EXPECT_EQ(jobs->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(jobs->body, HasSubstr("\"job_id\":\"" + *id + "\""));
  EXPECT_THAT(jobs->body, HasSubstr("\"state\":\"JOB_PENDING\""));
  httplib::Result one = Get("/api/jobs/" + *id + "?since=0", kViewer);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->status, 200);
  EXPECT_THAT(one->body, HasSubstr("\"name\":\"listed\""));
  httplib::Result fabric = Get("/api/jobs/" + *id + "/fabric", kViewer);
  ASSERT_TRUE(fabric);
  EXPECT_EQ(fabric->status, 200);
  EXPECT_THAT(fabric->body, HasSubstr("\"kind\":\"none\""));
  EXPECT_EQ(Get("/api/jobs/" + *id + "/fabric", "")->status, 401);
  EXPECT_EQ(Get("/api/jobs/j-none/fabric", kViewer)->status, 404);
  httplib::Result missing = Get("/api/jobs/j-none", kViewer);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  httplib::Result bad = Get("/api/jobs/" + *id + "?since=x", kViewer);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(HttpServerTest, APortInUseIsRefusedInOneLine) {
  const std::string taken = http_->url().substr(std::string("http://").size());
  HttpOptions h;
  h.listen = taken;
  StatusOr<std::unique_ptr<HttpServer>> again =
      HttpServer::Start(h, coordinator_.get());
  EXPECT_THAT(again, StatusIs(StatusCode::kUnavailable, HasSubstr(taken)));
  EXPECT_EQ(again.status().message().find('\n'), std::string::npos);
  h.listen = "no-port";
  EXPECT_THAT(HttpServer::Start(h, coordinator_.get()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("HOST:PORT")));
}

}  // namespace
}  // namespace dstrain::coordinator::http
