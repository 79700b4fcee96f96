#include "common/contract/torus_parts.h"

namespace dstrain::contract {

std::vector<TorusPart> TorusParts(const std::vector<int>& extents) {
  std::vector<int> used;
  for (int d = 0; d < static_cast<int>(extents.size()); ++d) {
    if (extents[static_cast<std::size_t>(d)] >= 2) used.push_back(d);
  }
  // Directions differ only along a dimension of extent >= 3.
  bool long_dimension = false;
  for (int d : used)
    long_dimension |= extents[static_cast<std::size_t>(d)] >= 3;
  std::vector<TorusPart> parts;
  const int n = static_cast<int>(used.size());
  for (int i = 0; i < n; ++i) {
    TorusPart p;
    for (int k = 0; k < n; ++k) p.order.push_back(used[(i + k) % n]);
    parts.push_back(p);
    if (long_dimension) {
      p.direction = -1;
      parts.push_back(p);
    }
  }
  return parts;
}

const char* TorusDimName(int dim) {
  static const char* const kNames[] = {"x", "y", "z", "w"};
  return dim >= 0 && dim < 4 ? kNames[dim] : "?";
}

std::string TorusPartCommName(int part, int dim) {
  return "torus_p" + std::to_string(part) + "_" + TorusDimName(dim);
}

std::string TorusPartLocalCommName(int part) {
  return "torus_p" + std::to_string(part) + "_local";
}

std::pair<std::int64_t, std::int64_t> TorusPartRange(std::int64_t n, int parts,
                                                     int p) {
  const std::int64_t base = n / parts;
  const std::int64_t extra = n % parts;
  const std::int64_t first = p * base + (p < extra ? p : extra);
  return {first, first + base + (p < extra ? 1 : 0)};
}

}  // namespace dstrain::contract
