#include "cli/commands/version.h"

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <string>

#include "cli/engine/library_versions.h"

namespace dstrain::cli {

int RunVersion() {
  std::printf("dstrain %s\n", DSTRAIN_VERSION);
  std::printf("libtorch %s\n", TorchVersion().c_str());
  std::printf("NCCL %s\n", NcclVersion().c_str());
  std::printf("gRPC %s\n", grpc::Version().c_str());
  std::printf("protobuf %s\n",
              google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)
                  .c_str());
  return 0;
}

}  // namespace dstrain::cli
