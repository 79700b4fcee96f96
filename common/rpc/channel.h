#pragma once
// The one place dstrain makes client channels and server credentials.
//
// Plaintext unless the process turned TLS on (tls.h: UseTls), then mutual
// TLS with the cluster's CA; every call is also authenticated by the
// cluster token (auth.h) either way.
//
// Channels ignore http_proxy/https_proxy: dstrain traffic is cluster-internal
// and a proxy on a developer machine must not capture loopback calls.
// All functions are thread-safe.

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <memory>
#include <string>

namespace dstrain::rpc {

// Largest message either side accepts: a job status with a long metrics
// history is far above gRPC's 4 MiB default.
inline constexpr int kMaxMessageBytes = 256 * 1024 * 1024;

// Turns off Abseil's Mutex deadlock detection for the process (gRPC's
// locks pay for it on every acquisition in Debian's build). Idempotent;
// MakeChannel and StartServer call it.
void UseReleaseMutexes();

// The arguments of every channel MakeChannel makes (no proxy, message
// limits, quick reconnects, no BDP probing), for callers that add their own.
grpc::ChannelArguments DefaultChannelArguments();

// A channel to `address` ("host:port"). Connection happens lazily on the
// first call.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials();

// Applies the server-side settings every dstrain server shares (message
// size limits, no SO_REUSEPORT, no BDP probing) to a builder.
void ConfigureServerBuilder(grpc::ServerBuilder* builder);

// now + timeout, as gRPC deadlines want it.
std::chrono::system_clock::time_point DeadlineAfter(
    std::chrono::milliseconds timeout);

}  // namespace dstrain::rpc
