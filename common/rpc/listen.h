#pragma once
// Starting a gRPC server on a host:port, and saying why it could not.
//
// gRPC reports a failed bind only as a multi-line error record on its own
// log; StartServer turns it into one line naming the address, the reason
// the operating system gave and the fix ("address already in use: another
// process serves 127.0.0.1:7070; stop it or pick another port with
// --listen"). Together with QuietGrpcLog, a command prints that line and
// nothing else.

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain::rpc {

struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the bound port (the one picked when `address` asked 0)
};

// Adds a listening port on `address` (plaintext or TLS as
// MakeServerCredentials says), ConfigureServerBuilder's settings, and
// starts the builder's services. UNAVAILABLE names `what`, the address and
// the reason; INVALID_ARGUMENT when `address` is not host:port.
StatusOr<StartedServer> StartServer(grpc::ServerBuilder* builder,
                                    const std::string& address,
                                    std::string_view what);

// Why binding `address` (host:port, IPv4, [IPv6] or a name) fails now, as
// the operating system says it, with the usual fix; "" when it would
// succeed or cannot be tried.
std::string WhyCannotListen(const std::string& address);

// This machine's address on the route to `address` (host:port): the source
// address the kernel picks for a connection there (no packet is sent). An
// agent binds and announces it so that the coordinator can reach it, as
// opposed to the first address of some other interface. IPv6 results come
// in brackets.
StatusOr<std::string> LocalAddressToward(const std::string& address);

// Sends gRPC's own log lines to dstrain's log at debug level, so that a
// failure dstrain reports itself is not printed twice in gRPC's format;
// failed TLS handshakes (a client with a wrong certificate or none) stay
// warnings.
// Keeps gRPC's logging as it is when GRPC_VERBOSITY or GRPC_TRACE is set
// (someone is debugging gRPC). Call once, early in main.
void QuietGrpcLog();

}  // namespace dstrain::rpc
