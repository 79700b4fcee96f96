#pragma once
// Shell patterns for files (`corpus/train-*.bin`, `shard-0[0-3].h5`), as
// `data.path` takes them: glob(3) without brace or tilde expansion.
// Thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace dstrain {

// Whether `path` holds a pattern character: `*`, `?` or `[`.
bool IsGlobPattern(std::string_view path);

// The regular files (symlinks followed) matching `pattern`, in name order;
// a path without pattern characters gives itself when it is a regular
// file. At most 1,000,000 names; empty when nothing matches.
std::vector<std::string> GlobFiles(const std::string& pattern);

}  // namespace dstrain
