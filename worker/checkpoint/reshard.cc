#include "worker/checkpoint/reshard.h"

#include <algorithm>

namespace dstrain::checkpoint {

std::vector<Piece> PiecesFor(IndexRange want, std::int64_t numel,
                             std::int64_t saved_shard_numel, int saved_world) {
  std::vector<Piece> out;
  const IndexRange real = Intersect(want, IndexRange{0, numel});
  if (real.empty() || saved_shard_numel <= 0) return out;
  std::int64_t at = real.begin;
  while (at < real.end) {
    const int s = static_cast<int>(at / saved_shard_numel);
    if (s >= saved_world)
      break;  // beyond what was saved: cannot happen
              // when numel <= saved padded size
    const std::int64_t slice_end = (s + 1) * saved_shard_numel;
    const std::int64_t end = std::min(real.end, slice_end);
    out.push_back(
        Piece{s, at - s * saved_shard_numel, at - want.begin, end - at});
    at = end;
  }
  return out;
}

std::vector<int> SourcesFor(IndexRange want, std::int64_t numel,
                            std::int64_t saved_shard_numel, int saved_world) {
  std::vector<int> out;
  for (const Piece& p :
       PiecesFor(want, numel, saved_shard_numel, saved_world)) {
    if (out.empty() || out.back() != p.src_rank) out.push_back(p.src_rank);
  }
  return out;
}

}  // namespace dstrain::checkpoint
