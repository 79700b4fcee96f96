#include "coordinator/command/coordinator_main.h"

#include <cstdio>
#include <iostream>
#include <optional>

#include "common/rpc/token_file.h"
#include "common/termination_signals.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/http/http_server.h"
#include "coordinator/node_address.h"
#include "coordinator/state/sqlite_state_store.h"

namespace dstrain::coordinator {

namespace {

StatusOr<std::string> CoordinatorToken(
    const CoordinatorCommandOptions& options) {
  if (!options.token_file.empty() && !options.generate_token.empty()) {
    return InvalidArgument(
        "--token-file and --generate-token: give one (--generate-token PATH "
        "writes a new token once; later starts use --token-file PATH)");
  }
  if (!options.generate_token.empty()) {
    DSTRAIN_ASSIGN_OR_RETURN(
        std::string token,
        rpc::CreateTokenFile(options.generate_token, "--generate-token"));
    std::cout << "dstrain coordinator: wrote a new cluster token to "
              << options.generate_token
              << " (mode 0600); give it to agents and launches with "
                 "--token-file"
              << std::endl;
    return token;
  }
  return rpc::ResolveClusterToken(options.token_file, "--token-file");
}

}  // namespace

int RunCoordinatorCommand(const CoordinatorCommandOptions& options) {
  StatusOr<std::string> token = CoordinatorToken(options);
  if (!token.ok()) {
    std::cerr << "dstrain coordinator: " << token.status().message() << "\n";
    return 2;
  }

  std::string viewer_token;
  if (!options.viewer_token_file.empty()) {
    StatusOr<std::string> t =
        rpc::ReadTokenFile(options.viewer_token_file, "--viewer-token-file");
    if (!t.ok()) {
      std::cerr << "dstrain coordinator: " << t.status().message() << "\n";
      return 2;
    }
    viewer_token = *t;
  }
  std::string node_token;
  if (!options.node_token_file.empty()) {
    StatusOr<std::string> t =
        rpc::ReadTokenFile(options.node_token_file, "--node-token-file");
    if (!t.ok()) {
      std::cerr << "dstrain coordinator: " << t.status().message() << "\n";
      return 2;
    }
    node_token = *t;
  }
  StatusOr<std::optional<rpc::TlsConfig>> tls = rpc::LoadTls(options.tls);
  if (!tls.ok()) {
    std::cerr << "dstrain coordinator: " << tls.status().message() << "\n";
    return 2;
  }
  if (tls->has_value()) rpc::UseTls(std::move(**tls));

  std::optional<Cidr> node_network;
  if (!options.node_network.empty()) {
    StatusOr<Cidr> net = ParseCidr(options.node_network, "--node-network");
    if (!net.ok()) {
      std::cerr << "dstrain coordinator: " << net.status().message() << "\n";
      return 2;
    }
    node_network = *net;
  }

  // Opened (and locked) before anything is served; a token generated just
  // now goes with a state directory that cannot be used.
  std::shared_ptr<StateStore> store;
  if (!options.state_dir.empty()) {
    StatusOr<std::unique_ptr<SqliteStateStore>> opened =
        SqliteStateStore::Open(options.state_dir);
    if (!opened.ok()) {
      if (!options.generate_token.empty()) {
        std::remove(options.generate_token.c_str());
      }
      std::cerr << "dstrain coordinator: " << opened.status().message() << "\n";
      return 2;
    }
    store = std::move(opened).value();
  }

  // Blocked before the server starts so its threads inherit the mask and
  // the signal reaches only sigwait below.
  TerminationSignals signals;

  CoordinatorOptions server_options;
  server_options.store = store;
  server_options.listen_address =
      options.listen.empty() ? "127.0.0.1:0" : options.listen;
  server_options.token = *token;
  server_options.node_token = node_token;
  server_options.viewer_token = viewer_token;
  server_options.node_network = node_network;
  server_options.restore_grace_s = options.restore_grace_s;
  server_options.heartbeat_s = options.heartbeat_s;
  server_options.missed_heartbeats_before_lost = options.missed_heartbeats;
  server_options.cordon_after_failures = options.cordon_after;
  server_options.cordon_s = options.cordon_s;
  StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(server_options);
  if (!server.ok()) {
    // Nothing half-made: a token nobody can use yet goes with the server.
    if (!options.generate_token.empty()) {
      std::remove(options.generate_token.c_str());
    }
    // The server's messages start with "coordinator: " already.
    const std::string& m = server.status().message();
    std::cerr << (m.rfind("coordinator: ", 0) == 0
                      ? "dstrain " + m
                      : "dstrain coordinator: " + m)
              << "\n";
    return server.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::unique_ptr<http::HttpServer> http_server;
  if (!options.http_listen.empty()) {
    http::HttpOptions http_options;
    http_options.listen = options.http_listen;
    http_options.metrics.per_rank = options.metrics_per_rank;
    http_options.version = options.version;
    http_options.tls_cert_file = options.tls.cert;
    http_options.tls_key_file = options.tls.key;
    StatusOr<std::unique_ptr<http::HttpServer>> started =
        http::HttpServer::Start(http_options, server->get());
    if (!started.ok()) {
      (*server)->Shutdown();
      if (!options.generate_token.empty()) {
        std::remove(options.generate_token.c_str());
      }
      const std::string& m = started.status().message();
      std::cerr << (m.rfind("coordinator: ", 0) == 0
                        ? "dstrain " + m
                        : "dstrain coordinator: " + m)
                << "\n";
      return started.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
    http_server = std::move(started).value();
  }
  if (store != nullptr) {
    std::cout << "dstrain coordinator: state in " << store->Describe()
              << std::endl;
  }
  if (http_server != nullptr) {
    std::cout << "dstrain coordinator: HTTP on " << http_server->url()
              << " (/metrics, /healthz)" << std::endl;
  }
  std::cout << "dstrain coordinator listening on " << (*server)->address()
            << std::endl;

  const int received = signals.Wait();
  std::cout << "dstrain coordinator: received "
            << (received == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down"
            << std::endl;
  if (http_server != nullptr) http_server->Shutdown();
  (*server)->Shutdown();
  server.value().reset();
  return 0;
}

}  // namespace dstrain::coordinator
