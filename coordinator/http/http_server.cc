#include "coordinator/http/http_server.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "common/log.h"
#include "common/rpc/listen.h"
#include "coordinator/access.h"
#include "coordinator/http/web_page.h"
#include "coordinator/node_status.h"

namespace dstrain::coordinator::http {
namespace {

// The bearer token of a request; "" when it has none.
std::string BearerToken(const httplib::Request& request) {
  const std::string header = request.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      header.compare(0, kBearer.size(), kBearer) != 0) {
    return "";
  }
  return header.substr(kBearer.size());
}

// A message as JSON with the proto's field names (the CLI's --json names).
void Json(const google::protobuf::Message& message,
          httplib::Response& response) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options)
           .ok()) {
    response.status = 500;
    response.set_content("cannot write JSON\n", "text/plain; charset=utf-8");
    return;
  }
  response.set_header("Cache-Control", "no-store");
  response.set_content(out, "application/json");
}

}  // namespace

struct HttpServer::Impl {
  HttpOptions options;
  const CoordinatorServer* coordinator = nullptr;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;

  // True when the request may read; else the response says why.
  bool MayRead(const httplib::Request& request, httplib::Response& response,
               const char* what) {
    const std::string token = BearerToken(request);
    Status s = token.empty()
                   ? Status(StatusCode::kUnauthenticated,
                            std::string(what) +
                                " needs `Authorization: Bearer TOKEN` with "
                                "the operator or viewer token")
                   : Authorize(coordinator->credentials(), coordinator->jobs(),
                               token, what, Role::kViewer, "");
    if (s.ok()) return true;
    log::Warn("coordinator: refused " + std::string(what) + " from " +
              request.remote_addr + ":" + std::to_string(request.remote_port) +
              ": " + s.message());
    if (s.code() == StatusCode::kUnauthenticated) {
      response.status = 401;
      response.set_header("WWW-Authenticate", "Bearer");
    } else {
      response.status = 403;
    }
    response.set_content(s.message() + "\n", "text/plain; charset=utf-8");
    return false;
  }

  void Routes() {
    server->Get("/metrics", [this](const httplib::Request& request,
                                   httplib::Response& response) {
      if (!MayRead(request, response, "GET /metrics")) return;
      CoordinatorSnapshot snapshot =
          TakeSnapshot(coordinator->jobs(), coordinator->nodes(),
                       coordinator->start_time_unix_s(), options.metrics);
      snapshot.version = options.version;
      response.set_content(
          WriteExposition(CoordinatorMetrics(snapshot, options.metrics)),
          kExpositionContentType);
    });
    server->Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_header("Cache-Control", "no-store");
      response.set_content(WebPageHtml(), "text/html; charset=utf-8");
    });
    server->Get("/api/jobs", [this](const httplib::Request& request,
                                    httplib::Response& response) {
      if (!MayRead(request, response, "GET /api/jobs")) return;
      proto::ListJobsResponse jobs;
      for (proto::JobSummary& j : coordinator->jobs().ListJobs()) {
        *jobs.add_jobs() = std::move(j);
      }
      Json(jobs, response);
    });
    server->Get(R"(/api/jobs/([^/]+))", [this](const httplib::Request& request,
                                               httplib::Response& response) {
      if (!MayRead(request, response, "GET /api/jobs/JOB")) return;
      int since = 0;
      if (request.has_param("since")) {
        try {
          since = std::stoi(request.get_param_value("since"));
        } catch (const std::exception&) {
          response.status = 400;
          response.set_content("since: not a step number\n",
                               "text/plain; charset=utf-8");
          return;
        }
      }
      StatusOr<proto::JobStatus> status =
          coordinator->jobs().GetJobStatus(request.matches[1], since);
      if (!status.ok()) {
        response.status =
            status.status().code() == StatusCode::kNotFound ? 404 : 500;
        response.set_content(status.status().message() + "\n",
                             "text/plain; charset=utf-8");
        return;
      }
      Json(*status, response);
    });
    server->Get(
        R"(/api/jobs/([^/]+)/fabric)",
        [this](const httplib::Request& request, httplib::Response& response) {
          if (!MayRead(request, response, "GET /api/jobs/JOB/fabric")) {
            return;
          }
          StatusOr<proto::JobFabric> fabric =
              coordinator->jobs().GetJobFabric(request.matches[1]);
          if (!fabric.ok()) {
            response.status =
                fabric.status().code() == StatusCode::kNotFound ? 404 : 500;
            response.set_content(fabric.status().message() + "\n",
                                 "text/plain; charset=utf-8");
            return;
          }
          Json(*fabric, response);
        });
    server->Get("/api/nodes", [this](const httplib::Request& request,
                                     httplib::Response& response) {
      if (!MayRead(request, response, "GET /api/nodes")) return;
      proto::ListNodesResponse nodes;
      for (proto::NodeStatus& n :
           NodeStatuses(coordinator->nodes(), coordinator->jobs())) {
        *nodes.add_nodes() = std::move(n);
      }
      Json(nodes, response);
    });
    server->Get("/healthz",
                [](const httplib::Request&, httplib::Response& response) {
                  response.set_content("ok\n", "text/plain; charset=utf-8");
                });
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Shutdown(); }

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpOptions& options, const CoordinatorServer* coordinator) {
  const std::size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("--http `" + options.listen +
                           "` is not HOST:PORT (e.g. 0.0.0.0:9464)");
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = options.listen.substr(colon + 1);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size()) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return InvalidArgument("--http `" + options.listen + "`: port `" +
                           port_text + "` is not a number from 0 to 65535");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgument(
        "HTTPS needs both a certificate and its key (--tls-cert, --tls-key)");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->coordinator = coordinator;
  const bool tls = !options.tls_cert_file.empty();
  if (tls) {
    impl->server = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str());
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  if (!impl->server->is_valid()) {
    return InvalidArgument("--http: the HTTPS server cannot use " +
                           options.tls_cert_file + " and " +
                           options.tls_key_file);
  }
  // cpp-httplib sets SO_REUSEPORT by default, which lets a second server
  // bind a port in use and split its traffic: SO_REUSEADDR only (a
  // restarted coordinator rebinds a port in TIME_WAIT).
  impl->server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR,
                 reinterpret_cast<const void*>(&yes), sizeof(yes));
  });
  impl->Routes();
  int bound = port;
  if (port == 0) {
    bound = impl->server->bind_to_any_port(host.empty() ? "0.0.0.0" : host);
    if (bound <= 0) bound = -1;
  } else if (!impl->server->bind_to_port(host.empty() ? "0.0.0.0" : host,
                                         port)) {
    bound = -1;
  }
  if (bound < 0) {
    const std::string why = rpc::WhyCannotListen(options.listen);
    return Unavailable("coordinator: cannot serve HTTP on " + options.listen +
                       (why.empty() ? "" : ": " + why));
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->server->listen_after_bind(); });
  // cpp-httplib's stop() does nothing until the server thread has entered
  // its accept loop; a Shutdown right after Start would leave that thread
  // blocked in accept. It gets there at once (the port is bound already).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!raw->server->is_running() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  const std::string shown =
      host.empty() || host == "0.0.0.0" || host == "::" ? "127.0.0.1"
      : host.find(':') != std::string::npos             ? "[" + host + "]"
                                                        : host;
  server->url_ = std::string(tls ? "https://" : "http://") + shown + ":" +
                 std::to_string(bound);
  return server;
}

void HttpServer::Shutdown() {
  if (impl_ == nullptr || impl_->server == nullptr) return;
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace dstrain::coordinator::http
