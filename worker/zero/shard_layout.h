#pragma once
// ZeRO sharding arithmetic, as pure functions: no torch.
//
// A model is split into units (the embeddings, each transformer block, ...).
// A unit's parameters are laid out in one flat buffer: the weights with
// >= 2 dimensions first (they get weight decay), then the rest (biases, norm
// gains), each group in the order given. The buffer is padded with zeros to
// a multiple of the world size W, and rank r owns the r-th 1/W slice.
//
// A rank keeps its owned slices of every unit back to back in one "arena"
// (the fp32 master copy, the fp32 gradient and the two AdamW moments all
// share this layout), so that clipping and the optimizer step are a few
// big vectorised operations. Stage 0 (plain data parallelism) owns the
// whole padded buffer of every unit on every rank.
//
// Offsets inside a unit's unpadded buffer do not depend on W: a checkpoint
// written with W ranks maps onto W' ranks by these offsets.

#include <cstdint>
#include <string>
#include <vector>

#include "common/index_range.h"

namespace dstrain::zero {

struct ParamSpec {
  std::string name;  // e.g. "blocks.0.attn.qkv.weight"
  std::vector<std::int64_t> shape;

  std::int64_t numel() const;
  // Decoupled weight decay applies to >= 2-D weights (matrices,
  // embeddings), not to biases and norm gains.
  bool decay() const { return shape.size() >= 2; }
};

struct ParamSlot {
  ParamSpec spec;
  std::int64_t offset = 0;  // in the unit's flat buffer
  int index = 0;            // position in the list the unit was made from
};

struct UnitLayout {
  std::string name;
  std::vector<ParamSlot> params;  // flat order: decayed first, then the rest
  std::int64_t numel = 0;         // sum of the parameters' sizes
  std::int64_t decay_numel = 0;   // [0, decay_numel) gets weight decay
  int world = 1;
  std::int64_t padded_numel = 0;  // numel rounded up to a multiple of world
  std::int64_t shard_numel = 0;   // padded_numel / world

  // The slot of the parameter given at `index` to LayoutUnit.
  const ParamSlot& slot(int index) const;
};

// n rounded up to a multiple of `world` (>= 1).
std::int64_t PaddedNumel(std::int64_t n, int world);

// Lays out `params` (in the model's order) for `world` ranks.
UnitLayout LayoutUnit(std::string name, const std::vector<ParamSpec>& params,
                      int world);

// Rank r's slice of a unit's padded buffer: [r·S, (r+1)·S), S = shard_numel.
IndexRange ShardRange(const UnitLayout& unit, int rank);

// The part of `range` (unit offsets) that gets weight decay.
IndexRange DecayPart(const UnitLayout& unit, const IndexRange& range);

// Where a rank's owned slices sit in its arena.
struct ArenaLayout {
  std::vector<IndexRange> owned;  // per unit: the owned range, in unit offsets
  std::vector<std::int64_t> offset;  // per unit: where that range starts
  std::int64_t numel = 0;
  // Arena ranges that get weight decay, merged where adjacent.
  std::vector<IndexRange> decay;
};

// `sharded` false: the rank owns every unit whole (stage 0); true: it owns
// ShardRange(unit, rank) of each.
ArenaLayout LayoutArena(const std::vector<UnitLayout>& units, int rank,
                        bool sharded);

}  // namespace dstrain::zero
