#pragma once
// Reading a whole configuration file, with the reason when it cannot be
// read and a size limit so that a wrong path (/dev/zero, a dataset, a FIFO)
// fails at once instead of filling memory or blocking.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace dstrain {

// What the loaders read at most: above the YAML toolkit's limits (which
// refuse a large file with their own message) and any real topology.conf.
inline constexpr std::size_t kMaxConfigFileRead = std::size_t{16} << 20;

// The bytes of the regular file `path` (symlinks followed). Errors name
// `what` and the path and say why: "cannot read job file `x.yaml`: no such
// file" (NOT_FOUND), "...: permission denied", "...: it is a folder",
// "...: not a regular file", "...: larger than 4.0 MiB" (INVALID_ARGUMENT).
StatusOr<std::string> ReadConfigFile(const std::string& path,
                                     std::size_t max_bytes,
                                     std::string_view what);

}  // namespace dstrain
