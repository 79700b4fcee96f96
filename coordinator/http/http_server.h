#pragma once
// The coordinator's HTTP port (`dstrain coordinator --http HOST:PORT`):
//
//   GET /metrics  Prometheus' text format (coordinator_metrics.h)
//   GET /         the live web page (web_page.h); it holds no data itself
//   GET /api/jobs, /api/jobs/<id>[?since=STEP], /api/nodes
//                 ListJobs, GetJobStatus and ListNodes as JSON with the
//                 proto's field names (what the page draws)
//   GET /api/jobs/<id>/fabric
//                 the job's nodes on its fabric (JobFabric, job_fabric.h)
//   GET /healthz  "ok" while the coordinator serves (no credential: for
//                 load balancers and liveness probes)
//
// Every other path is 404. /metrics and /api/ need a credential that may
// read (access.h: the operator's or the viewer's), as `Authorization:
// Bearer TOKEN` — what Prometheus sends with `authorization:
// {credentials_file: ...}`, and the page with the token it was given: none
// is 401 with `WWW-Authenticate: Bearer`, one that may not
// read is 403, each with a one-line reason and logged with the peer's
// address, never the token. With a certificate and key it serves HTTPS
// (the coordinator's own pair), else plain HTTP.
//
// cpp-httplib's server on its own threads; Start binds before it returns
// (UNAVAILABLE naming the address and the reason when it cannot), and
// Shutdown (or the destructor) stops it and joins them. The coordinator
// must outlive it.

#include <memory>
#include <string>

#include "common/status.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/http/coordinator_metrics.h"

namespace dstrain::coordinator::http {

struct HttpOptions {
  std::string listen;  // host:port; port 0 picks one
  MetricsOptions metrics;
  std::string version;  // dstrain_build_info's
  // Both or neither: HTTPS with this certificate chain and key (PEM files).
  std::string tls_cert_file;
  std::string tls_key_file;
};

class HttpServer {
 public:
  static StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpOptions& options, const CoordinatorServer* coordinator);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "http://host:port" or "https://host:port", the port the one bound (a
  // wildcard host shown as 127.0.0.1).
  const std::string& url() const { return url_; }
  void Shutdown();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string url_;
};

}  // namespace dstrain::coordinator::http
