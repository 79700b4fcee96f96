#pragma once
// A stream made of pieces back to back (token-file shards, HDF5
// datasets): the pieces holding tokens [begin, begin + count), in order.
// Each piece (or what a pointer in the container points to) has `first`
// (its first position in the stream) and `tokens` (its length). Internal
// to worker/data; pure.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"

namespace dstrain::data {

template <typename T>
const T& PieceOf(const T& p) {
  return p;
}
template <typename T>
const T& PieceOf(const std::unique_ptr<T>& p) {
  return *p;
}

// The piece holding `position` (the last one for a position past them).
template <typename Pieces>
std::size_t PieceAt(const Pieces& pieces, std::int64_t position) {
  auto it = std::upper_bound(
      pieces.begin(), pieces.end(), position,
      [](std::int64_t q, const auto& p) { return q < PieceOf(p).first; });
  return static_cast<std::size_t>(
      std::max<std::ptrdiff_t>(0, std::distance(pieces.begin(), it) - 1));
}

// Calls fn(index, local_begin, n) -> Status for each piece the range
// touches, stopping at the first error. INVALID_ARGUMENT, naming `what`,
// for a range outside [0, total).
template <typename Pieces, typename Fn>
Status ForEachPiece(const Pieces& pieces, std::int64_t total,
                    const std::string& what, std::int64_t begin,
                    std::int64_t count, Fn&& fn) {
  if (begin < 0 || count < 0 || begin + count > total) {
    return InvalidArgument("read of " + std::to_string(count) + " tokens at " +
                           std::to_string(begin) + " past the end of " + what +
                           " (" + std::to_string(total) + " tokens)");
  }
  for (std::size_t i = PieceAt(pieces, begin); count > 0; ++i) {
    const auto& p = PieceOf(pieces[i]);
    const std::int64_t local = begin - p.first;
    const std::int64_t n = std::min(count, p.tokens - local);
    if (n > 0) DSTRAIN_RETURN_IF_ERROR(fn(i, local, n));
    begin += n;
    count -= n;
  }
  return Status::Ok();
}

}  // namespace dstrain::data
