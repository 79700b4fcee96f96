#include "common/rpc/listen.h"

#include <arpa/inet.h>
#include <grpc/support/log.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/rpc/channel.h"
#include "common/unique_fd.h"

namespace dstrain::rpc {
namespace {

// "host:port" or "[v6]:port" split; false when there is no port.
bool SplitHostPort(const std::string& address, std::string* host,
                   std::string* port) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) return false;
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return true;
}

std::string ReasonAndFix(int err, const std::string& address) {
  switch (err) {
    case EADDRINUSE:
      return "address already in use: another process serves " + address +
             "; stop it or pick another port with --listen";
    case EADDRNOTAVAIL:
      return "not an address of this machine; use one of its own addresses "
             "or 0.0.0.0 in --listen";
    case EACCES:
      return "permission denied (ports below 1024 need root); pick a port "
             "above 1024 with --listen";
    default:
      return std::strerror(err);
  }
}

void ToDebugLog(gpr_log_func_args* args) {
  // A failed TLS handshake is the only trace of a client with the wrong
  // certificate (or none): operators need it without turning on debug.
  if (args->severity == GPR_LOG_SEVERITY_ERROR && args->message != nullptr &&
      std::strstr(args->message, "andshake") != nullptr) {
    // A client retries every second or two: one line per 10 s is enough.
    static std::atomic<std::int64_t> last_ms{-1};
    static std::atomic<int> quiet{0};
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now().time_since_epoch())
            .count();
    std::int64_t last = last_ms.load();
    if (last >= 0 && now - last < 10000) {
      ++quiet;
      return;
    }
    if (!last_ms.compare_exchange_strong(last, now)) return;
    std::string first(args->message);
    first = first.substr(0, first.find('\n'));
    const int skipped = quiet.exchange(0);
    log::Warn("TLS handshake failed: " + first.substr(0, 300) +
              (skipped > 0 ? " (and " + std::to_string(skipped) +
                                 " more in the last 10 s)"
                           : ""));
    return;
  }
  if (!log::DebugEnabled()) return;
  log::Debug(std::string("grpc ") + (args->file ? args->file : "") + ":" +
             std::to_string(args->line) + ": " +
             (args->message ? args->message : ""));
}

}  // namespace

std::string WhyCannotListen(const std::string& address) {
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) return "";
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(),
                               port.c_str(), &hints, &found);
  if (rc != 0) {
    return std::string("cannot resolve `") + host + "`: " + gai_strerror(rc);
  }
  std::string why;
  for (addrinfo* a = found; a != nullptr && why.empty(); a = a->ai_next) {
    UniqueFd fd(
        ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) continue;
    // As gRPC binds: SO_REUSEADDR on, SO_REUSEPORT off
    // (ConfigureServerBuilder).
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      why = ReasonAndFix(errno, address);
    }
  }
  ::freeaddrinfo(found);
  return why;
}

StatusOr<std::string> LocalAddressToward(const std::string& address) {
  std::string host, port;
  if (!SplitHostPort(address, &host, &port)) {
    return InvalidArgument("`" + address + "` is not host:port");
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return Unavailable("cannot resolve `" + host + "`: " + gai_strerror(rc));
  }
  Status last = Unavailable("no route to " + address);
  std::string local;
  for (addrinfo* a = found; a != nullptr && local.empty(); a = a->ai_next) {
    // connect() on a UDP socket only picks the route and source address.
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::connect(fd.get(), a->ai_addr, a->ai_addrlen) != 0) {
      last =
          Unavailable("no route to " + address + ": " + std::strerror(errno));
      continue;
    }
    sockaddr_storage me{};
    socklen_t len = sizeof(me);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&me), &len) != 0) {
      continue;
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (me.ss_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&me)->sin_addr, text,
                  sizeof(text));
      local = text;
    } else if (me.ss_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&me)->sin6_addr,
                  text, sizeof(text));
      local = std::string("[") + text + "]";
    }
  }
  ::freeaddrinfo(found);
  if (local.empty()) return last;
  return local;
}

StatusOr<StartedServer> StartServer(grpc::ServerBuilder* builder,
                                    const std::string& address,
                                    std::string_view what) {
  std::string host, port_text;
  if (!SplitHostPort(address, &host, &port_text)) {
    return InvalidArgument(std::string(what) + ": listen address `" + address +
                           "` is not host:port");
  }
  StartedServer started;
  builder->AddListeningPort(address, MakeServerCredentials(), &started.port);
  UseReleaseMutexes();
  ConfigureServerBuilder(builder);
  started.server = builder->BuildAndStart();
  if (started.server != nullptr && started.port != 0) return started;
  if (started.server != nullptr) started.server->Shutdown();
  started.server.reset();
  std::string why = WhyCannotListen(address);
  return Unavailable(std::string(what) + ": cannot listen on " + address +
                     (why.empty() ? "" : ": " + why));
}

void QuietGrpcLog() {
  const char* verbosity = std::getenv("GRPC_VERBOSITY");
  const char* trace = std::getenv("GRPC_TRACE");
  if ((verbosity != nullptr && *verbosity != '\0') ||
      (trace != nullptr && *trace != '\0')) {
    return;
  }
  gpr_set_log_function(ToDebugLog);
}

}  // namespace dstrain::rpc
