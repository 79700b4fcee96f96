#pragma once
// Bounds on what a YAML text may cost to read. Strict loaders read files
// people write by hand; these bounds are far above any such file and far
// below what would exhaust memory, time or the stack. Plain value.

#include <cstddef>

namespace dstrain::yaml {

struct Limits {
  // Larger texts are refused unread: yaml-cpp needs about 250 bytes of
  // memory and a microsecond per byte of a dense flow list.
  std::size_t max_bytes = std::size_t{1} << 20;
  // Nesting of mappings and lists. yaml-cpp's parser (and every walker
  // over its nodes) recurses once per level.
  int max_depth = 64;
};

}  // namespace dstrain::yaml
