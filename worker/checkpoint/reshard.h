#pragma once
// Resharding arithmetic: which bytes of a checkpoint saved on W ranks fill
// a rank's part of a unit when loading on W' ranks. Pure; no torch.
//
// A unit's parameters sit at the same offsets of its flat buffer for every
// world size (zero/shard_layout.h); only the padding at the end and the
// slice boundaries change. Saved rank s holds elements
// [s·S, (s+1)·S) of the unit (S = saved shard size), so any range of the
// unit maps onto the saved shards by division. Elements at or past the
// unit's numel are padding: no piece covers them, the loader zeroes them.

#include <cstdint>
#include <vector>

#include "worker/zero/shard_layout.h"

namespace dstrain::checkpoint {

// Copy `count` elements from element `src_offset` of saved shard
// `src_rank`'s slice to element `dst_offset` of the wanted range.
struct Piece {
  int src_rank = 0;
  std::int64_t src_offset = 0;
  std::int64_t dst_offset = 0;
  std::int64_t count = 0;
  friend bool operator==(const Piece&, const Piece&) = default;
};

// The pieces, in increasing order, that fill `want` (offsets in the unit's
// buffer) from a unit of `numel` elements saved as `saved_world` slices of
// `saved_shard_numel` each.
std::vector<Piece> PiecesFor(IndexRange want, std::int64_t numel,
                             std::int64_t saved_shard_numel, int saved_world);

// The saved ranks whose slices a loader of `want` reads, increasing.
std::vector<int> SourcesFor(IndexRange want, std::int64_t numel,
                            std::int64_t saved_shard_numel, int saved_world);

}  // namespace dstrain::checkpoint
