#pragma once
// `dstrain version`: dstrain's version and those of the libraries it was
// built with (libtorch, NCCL when built in, gRPC, protobuf).

#include <string>

namespace dstrain::cli {

// One library per line, no trailing newline; also what `dstrain --version`
// prints.
std::string VersionText();
// dstrain's own version, e.g. "0.1.0".
std::string DstrainVersion();

int RunVersion();

}  // namespace dstrain::cli
