#pragma once
// How a YAML value looks in a message, and whether it was written as a
// string.
//
//   Describe: `abc`, `"5"` (a quoted scalar keeps its quotes), nothing
//   (null or missing), a list of 3 items, a mapping. Scalars longer than
//   60 bytes are cut to 57 and `...` (never inside a UTF-8 character).
//   IsQuoted: the scalar was written in quotes (or tagged !!str), so it is
//   a string even when it reads as a number or a boolean.
//
// Pure functions over yaml-cpp nodes; safe from any thread for nodes that
// no thread changes.

#include <yaml-cpp/node/node.h>

#include <string>

namespace dstrain::yaml {

bool IsQuoted(const YAML::Node& node);

std::string Describe(const YAML::Node& node);

}  // namespace dstrain::yaml
