#include "cli/commands/coordinator_connection.h"

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/rpc/tls.h"
#include "common/rpc/token_file.h"

namespace dstrain::cli {

int OperateFail(const std::string& command, const Status& s) {
  std::fprintf(stderr, "dstrain %s: %s\n", command.c_str(),
               s.message().c_str());
  switch (s.code()) {
    case StatusCode::kNotFound:
      return kOperateNotFound;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return kOperateDenied;
    case StatusCode::kInvalidArgument:
      return kOperateUsage;
    default:
      return kOperateFailed;
  }
}

StatusOr<std::unique_ptr<coordinator::CoordinatorClient>> ConnectOperator(
    const OperateOptions& o) {
  std::string address = o.coordinator;
  if (address.empty()) {
    const char* env = std::getenv("DSTRAIN_COORDINATOR");
    if (env != nullptr) address = env;
  }
  if (address.empty()) {
    return InvalidArgument(
        "no coordinator: give --coordinator HOST:PORT or set "
        "DSTRAIN_COORDINATOR");
  }
  DSTRAIN_ASSIGN_OR_RETURN(
      std::string token,
      rpc::ResolveClusterToken(o.token_file, "--token-file"));
  DSTRAIN_ASSIGN_OR_RETURN(std::optional<rpc::TlsConfig> tls,
                           rpc::LoadTls(o.tls));
  if (tls.has_value()) rpc::UseTls(std::move(*tls));
  return std::make_unique<coordinator::CoordinatorClient>(address, token);
}

}  // namespace dstrain::cli
