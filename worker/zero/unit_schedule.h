#pragma once
// When each unit's parameters are needed in one micro-batch, and what the
// ZeRO engine does around each use (pure: no torch).
//
// A model declares its forward order: the unit of each segment it runs, in
// order. A unit may appear more than once: the GPT's root unit (token and
// position embeddings, final norm) runs first (embeddings) and last (the
// head tied to the token embedding). The micro-batch is then the sequence
// of uses
//   forward  positions 0 .. F-1:   forward_order[0 .. F-1]
//   backward positions F .. 2F-1:  forward_order[F-1 .. 0]
// and the engine decides, per position:
// - prefetch: gather the units of the next `depth` positions ahead (the
//   engine skips those already gathered);
// - keep or release the gathered parameters after the use (stage 3): a unit
//   stays gathered until its last use of the pass; after its last forward
//   use it also stays when its first backward use comes right next (the
//   root, as FSDP keeps its root unsharded), and otherwise is released when
//   `reshard_after_forward`; it is always released after its last backward
//   use;
// - gradients: a unit's gradient buffer is taken at its first backward use
//   and reduced after its last.

#include <vector>

namespace dstrain::zero {

class UnitSchedule {
 public:
  // `forward_order` holds unit indices in [0, units). Throws
  // std::invalid_argument if it is empty, names a unit outside the range,
  // or leaves a unit out.
  UnitSchedule(std::vector<int> forward_order, int units);

  int units() const { return units_; }
  int forward_uses() const { return static_cast<int>(forward_.size()); }
  int size() const { return 2 * forward_uses(); }  // all positions

  int unit_at(int pos) const;
  bool is_backward(int pos) const { return pos >= forward_uses(); }

  // Units used at positions pos+1 .. pos+depth (within the micro-batch),
  // in order, without repeats and without the unit used at `pos`.
  std::vector<int> PrefetchAfter(int pos, int depth) const;

  // Whether the unit used at `pos` stays gathered after that use.
  bool KeepGatheredAfter(int pos, bool reshard_after_forward) const;

  // Whether `pos` is its unit's first / last backward use.
  bool IsFirstBackwardUse(int pos) const;
  bool IsLastBackwardUse(int pos) const;

 private:
  int NextUse(int pos) const;  // next position of the same unit, or -1

  std::vector<int> forward_;
  int units_;
};

}  // namespace dstrain::zero
