#pragma once
// A half-open range [begin, end) of element indices: a slice of a flat
// buffer (a rank's shard of a ZeRO unit, the part of an arena that gets
// weight decay). Plain data and pure functions.

#include <algorithm>
#include <cstdint>

namespace dstrain {

struct IndexRange {
  std::int64_t begin = 0;
  std::int64_t end = 0;

  std::int64_t size() const { return end > begin ? end - begin : 0; }
  bool empty() const { return size() == 0; }
  friend bool operator==(const IndexRange&, const IndexRange&) = default;
};

// The indices in both (empty when they do not overlap).
inline IndexRange Intersect(const IndexRange& a, const IndexRange& b) {
  IndexRange r{std::max(a.begin, b.begin), std::min(a.end, b.end)};
  if (r.end < r.begin) r.end = r.begin;
  return r;
}

}  // namespace dstrain
