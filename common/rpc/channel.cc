#include "common/rpc/channel.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <mutex>
#include <optional>

#include "common/rpc/tls.h"

namespace dstrain::rpc {

void UseReleaseMutexes() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Debian builds Abseil with its Mutex deadlock detector on: every lock
    // gRPC takes then updates a global lock-order graph (a tenth of a
    // coordinator's CPU under load, measured with perf). gRPC's own locks
    // are not ours to check.
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  });
}

grpc::ChannelArguments DefaultChannelArguments() {
  UseReleaseMutexes();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // Reconnect quickly after the peer restarts instead of gRPC's default
  // backoff of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // No bandwidth-delay probing: control-plane messages are small, and each
  // probe is a PING round trip on the connection per burst of data.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  return args;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args = DefaultChannelArguments();
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::InsecureChannelCredentials();
  if (std::optional<TlsConfig> tls = CurrentTls()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls->ca_pem;
    ssl.pem_private_key = tls->key_pem;
    ssl.pem_cert_chain = tls->cert_pem;
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials() {
  std::optional<TlsConfig> tls = CurrentTls();
  if (!tls) return grpc::InsecureServerCredentials();
  // Every client shows a certificate the cluster's CA signed: agents,
  // workers and operators alike.
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls->ca_pem;
  ssl.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
  return grpc::SslServerCredentials(ssl);
}

void ConfigureServerBuilder(grpc::ServerBuilder* builder) {
  // gRPC sets SO_REUSEPORT by default, which would let a second server bind
  // a port that is in use and split the traffic with the first.
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // as channels
  builder->SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder->SetMaxSendMessageSize(kMaxMessageBytes);
}

std::chrono::system_clock::time_point DeadlineAfter(
    std::chrono::milliseconds timeout) {
  return std::chrono::system_clock::now() + timeout;
}

}  // namespace dstrain::rpc
