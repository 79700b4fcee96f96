#pragma once
// Slurm host-list expressions, both ways.
//
// Expansion (what `scontrol show hostnames` prints):
//   "c[0-5,7]"         -> c0 c1 c2 c3 c4 c5 c7
//   "gpu-[001-128]"    -> gpu-001 .. gpu-128 (a range is as wide as its
//                         lower bound, so zero padding is kept)
//   "a[1-2]b[3-4]"     -> a1b3 a1b4 a2b3 a2b4 (brackets multiply, the
//                         first one outermost)
//   "n1,n2,c[1-2]"     -> n1 n2 c1 c2 (commas split at the top level only)
// Names come back in expression order; duplicates are kept (callers that
// care report them, with their own context). Errors, with the 0-based
// offset into the expression: an unclosed `[`, a stray `]`, a nested `[`,
// an empty item or range, a non-numeric bound, a range that goes down
// (`c[5-3]`), more than kMaxHostListNames names, names that would take
// more than 64 MiB.
//
// Compression (what `scontrol show hostlist` prints): names that end in
// digits are grouped by prefix and digit width (natural-width numbers
// join a zero-padded group of the same width), numbers sorted and merged
// into ranges; groups appear in order of first appearance; other names
// stay as they are. Expand(Compress(names)) yields the same set of names.
//
// Pure functions; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dstrain::topology {

inline constexpr size_t kMaxHostListNames = 1 << 20;

// What went wrong and where, for callers that report file:line:column.
struct HostListError {
  size_t offset = 0;  // 0-based, into the expression
  std::string what;   // e.g. "range `5-3` goes down"
};

// Appends the names to `out`. On error returns INVALID_ARGUMENT
// ("bad host list: WHAT at column N of `expr`") and fills `error` if given.
Status ExpandHostList(std::string_view expr, std::vector<std::string>* out,
                      HostListError* error = nullptr);
StatusOr<std::vector<std::string>> ExpandHostList(std::string_view expr);

std::string CompressHostList(const std::vector<std::string>& names);

}  // namespace dstrain::topology
