#pragma once
// Repeated keys. yaml-cpp keeps both entries of a mapping that repeats a
// key, and lookups see only the first, so a strict loader refuses them
// rather than silently half-ignore the file:
//   duplicate key `steps` at x.yaml:6:3 (first at x.yaml:5:3)
//
// The walk is iterative (any depth is safe) and visits every node once;
// over nodes from Parse (parse.h: no aliases) that is linear. Pure; safe
// from any thread for nodes no thread changes.

#include <yaml-cpp/node/node.h>

#include <optional>
#include <string>

#include "common/status.h"
#include "common/yaml/place.h"

namespace dstrain::yaml {

struct DuplicateKey {
  std::string key;
  YAML::Mark at;     // the repeat
  YAML::Mark first;  // the first occurrence
};

// The first repeated scalar key in `node` and below, in document order.
std::optional<DuplicateKey> FindDuplicateKey(const YAML::Node& node);

// INVALID_ARGUMENT naming both places, or OK.
Status CheckNoDuplicateKeys(const YAML::Node& node, const Locator& file);

}  // namespace dstrain::yaml
