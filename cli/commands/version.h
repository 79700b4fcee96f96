#pragma once
// `dstrain version`: dstrain's version and those of the libraries it was
// built with (libtorch, NCCL when built in, gRPC, protobuf).

namespace dstrain::cli {

int RunVersion();

}  // namespace dstrain::cli
