#include "cli/commands/version.h"

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "cli/engine/library_versions.h"
#include "common/strings.h"

namespace dstrain::cli {

std::string DstrainVersion() { return DSTRAIN_VERSION; }

std::string VersionText() {
  return StrFormat(
      "dstrain %s\nlibtorch %s\nNCCL %s\ngRPC %s\nprotobuf %s", DSTRAIN_VERSION,
      TorchVersion().c_str(), NcclVersion().c_str(), grpc::Version().c_str(),
      google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)
          .c_str());
}

int RunVersion() {
  std::printf("%s\n", VersionText().c_str());
  return 0;
}

}  // namespace dstrain::cli
