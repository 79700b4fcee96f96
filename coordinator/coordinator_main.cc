#include "coordinator/coordinator_main.h"

#include <iostream>

#include "common/rpc/auth.h"
#include "common/termination_signals.h"
#include "coordinator/coordinator_server.h"

namespace dstrain::coordinator {

int RunCoordinatorCommand(const std::string& listen,
                          const std::string& token_or_file) {
  std::string token;
  bool generated = false;
  if (token_or_file.empty()) {
    StatusOr<std::string> t = rpc::GenerateToken();
    if (!t.ok()) {
      std::cerr << "dstrain coordinator: " << t.status().message() << "\n";
      return 1;
    }
    token = *t;
    generated = true;
  } else {
    StatusOr<std::string> t = rpc::ResolveToken(token_or_file);
    if (!t.ok()) {
      std::cerr << "dstrain coordinator: " << t.status().message() << "\n";
      return 2;
    }
    token = *t;
  }

  // Blocked before the server starts so its threads inherit the mask and
  // the signal reaches only sigwait below.
  TerminationSignals signals;

  CoordinatorOptions options;
  options.listen_address = listen.empty() ? "127.0.0.1:0" : listen;
  options.token = token;
  StatusOr<std::unique_ptr<CoordinatorServer>> server =
      CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::cerr << "dstrain coordinator: " << server.status().message() << "\n";
    return server.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << "dstrain coordinator listening on " << (*server)->address()
            << std::endl;
  if (generated) std::cout << "token: " << token << std::endl;

  const int received = signals.Wait();
  std::cout << "dstrain coordinator: received "
            << (received == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down"
            << std::endl;
  (*server)->Shutdown();
  server.value().reset();
  return 0;
}

}  // namespace dstrain::coordinator
