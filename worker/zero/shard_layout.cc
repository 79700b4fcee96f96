#include "worker/zero/shard_layout.h"

#include <algorithm>
#include <stdexcept>

namespace dstrain::zero {

std::int64_t ParamSpec::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

const ParamSlot& UnitLayout::slot(int index) const {
  for (const ParamSlot& s : params) {
    if (s.index == index) return s;
  }
  throw std::out_of_range("unit " + name + " has no parameter #" +
                          std::to_string(index));
}

std::int64_t PaddedNumel(std::int64_t n, int world) {
  if (world < 1) throw std::invalid_argument("world size must be >= 1");
  return (n + world - 1) / world * world;
}

UnitLayout LayoutUnit(std::string name, const std::vector<ParamSpec>& params,
                      int world) {
  UnitLayout u;
  u.name = std::move(name);
  u.world = world;
  for (int pass = 0; pass < 2; ++pass) {
    const bool want_decay = pass == 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (params[i].decay() != want_decay) continue;
      u.params.push_back({params[i], u.numel, static_cast<int>(i)});
      u.numel += params[i].numel();
    }
    if (want_decay) u.decay_numel = u.numel;
  }
  u.padded_numel = PaddedNumel(u.numel, world);
  u.shard_numel = u.padded_numel / world;
  return u;
}

IndexRange ShardRange(const UnitLayout& unit, int rank) {
  if (rank < 0 || rank >= unit.world) {
    throw std::out_of_range("rank " + std::to_string(rank) +
                            " outside a world of " +
                            std::to_string(unit.world));
  }
  return {rank * unit.shard_numel, (rank + 1) * unit.shard_numel};
}

IndexRange DecayPart(const UnitLayout& unit, const IndexRange& range) {
  return Intersect(range, IndexRange{0, unit.decay_numel});
}

ArenaLayout LayoutArena(const std::vector<UnitLayout>& units, int rank,
                        bool sharded) {
  ArenaLayout a;
  for (const UnitLayout& u : units) {
    const IndexRange owned =
        sharded ? ShardRange(u, rank) : IndexRange{0, u.padded_numel};
    a.owned.push_back(owned);
    a.offset.push_back(a.numel);
    const IndexRange d = DecayPart(u, owned);
    if (!d.empty()) {
      const IndexRange at{a.numel + d.begin - owned.begin,
                     a.numel + d.end - owned.begin};
      if (!a.decay.empty() && a.decay.back().end == at.begin) {
        a.decay.back().end = at.end;
      } else {
        a.decay.push_back(at);
      }
    }
    a.numel += owned.size();
  }
  return a;
}

}  // namespace dstrain::zero
