#pragma once
// Slurm host-list expressions, both ways, with Slurm's grammar (checked
// against `scontrol show hostnames` of Slurm 22.05).
//
// Expansion (what `scontrol show hostnames` prints):
//   "c[0-5,7]"         -> c0 c1 c2 c3 c4 c5 c7
//   "gpu-[001-128]"    -> gpu-001 .. gpu-128 (a range is as wide as its
//                         lower bound, so zero padding is kept)
//   "a[1-2]b[3-4]"     -> a1b3 a1b4 a2b3 a2b4 (brackets multiply, the
//                         last one fastest; with three or more, Slurm's
//                         order: the last, then the first, the second, ...,
//                         the second-to-last slowest)
//   "n1,n2 c[1-2]"     -> n1 n2 c1 c2 (commas, spaces and tabs separate
//                         names outside brackets; empty items between
//                         separators are skipped, so "" is no names at all)
// Names come back in expression order; duplicates are kept (callers that
// care report them, with their own context).
//
// Refused, as Slurm refuses them: text after an item's last `]`
// (`a[1-3]-ib`), a range that goes down (`c[5-3]`), one range of more than
// kMaxHostRangeNames names, an empty or non-numeric range, a nested `[`.
// Refused where Slurm accepts the text but makes names nobody meant:
//   `c[1-`   an unclosed `[` (Slurm appends a `]` to the prefix: `c]`),
//            also with a `[` after it (`c[[1-`; Slurm refuses `c[[1]]`)
//   `c1]`    a `]` without `[` (Slurm keeps it in the name)
//   `c[ 1]`, `c[+1]`, `c[1-]`  a range that is not digits or digits-digits
//            (Slurm reads ` 1` and `+1` as 1 two digits wide, `1-` as 1)
//   numbers of more than 18 digits (Slurm saturates them at 2^64 - 1)
//   control characters, a newline among them (Slurm keeps them in names)
// and, a limit of dstrain's own, an expression of more than
// kMaxHostListNames names or of names that would take more than 64 MiB:
// the count is taken before any name is built, so a huge expression costs
// no memory. Errors carry the 0-based offset into the expression.
//
// Compression (what `scontrol show hostlist` prints): names that end in
// digits are grouped by prefix and digit width (natural-width numbers
// join a zero-padded group of the same width), numbers sorted and merged
// into ranges; groups appear in order of first appearance; other names
// stay as they are. Expand(Compress(names)) yields the same set of names.
//
// Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dstrain::topology {

// Slurm's MAX_RANGE: `a[0-65535]` is the longest range it expands.
inline constexpr uint64_t kMaxHostRangeNames = 65536;
inline constexpr size_t kMaxHostListNames = 1 << 20;

// What went wrong and where, for callers that report file:line:column.
struct HostListError {
  size_t offset = 0;  // 0-based, into the expression
  std::string what;   // e.g. "range `5-3` goes down"
};

// Appends the names to `out`; on error `out` is left as it was. Returns
// INVALID_ARGUMENT ("bad host list: WHAT at column N of `expr`") and fills
// `error` if given.
Status ExpandHostList(std::string_view expr, std::vector<std::string>* out,
                      HostListError* error = nullptr);
StatusOr<std::vector<std::string>> ExpandHostList(std::string_view expr);

// The number of names `expr` expands to, without building them (so a
// caller can refuse a list too long for it first); the same syntax errors
// as ExpandHostList, but no limit on the count, which saturates at
// UINT64_MAX.
Status CountHostList(std::string_view expr, uint64_t* count,
                     HostListError* error = nullptr);

std::string CompressHostList(const std::vector<std::string>& names);

}  // namespace dstrain::topology
