#include "worker/zero/unit_schedule.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dstrain::zero {

UnitSchedule::UnitSchedule(std::vector<int> forward_order, int units)
    : forward_(std::move(forward_order)), units_(units) {
  if (forward_.empty()) {
    throw std::invalid_argument("a unit schedule needs at least one use");
  }
  std::vector<bool> seen(units_ > 0 ? units_ : 0, false);
  for (int u : forward_) {
    if (u < 0 || u >= units_) {
      throw std::invalid_argument("unit " + std::to_string(u) +
                                  " outside [0, " + std::to_string(units_) +
                                  ")");
    }
    seen[u] = true;
  }
  for (int u = 0; u < units_; ++u) {
    if (!seen[u]) {
      throw std::invalid_argument("unit " + std::to_string(u) +
                                  " is never used in the forward order");
    }
  }
}

int UnitSchedule::unit_at(int pos) const {
  if (pos < 0 || pos >= size()) {
    throw std::out_of_range("schedule position " + std::to_string(pos));
  }
  const int f = forward_uses();
  return pos < f ? forward_[pos] : forward_[2 * f - 1 - pos];
}

int UnitSchedule::NextUse(int pos) const {
  const int u = unit_at(pos);
  for (int p = pos + 1; p < size(); ++p) {
    if (unit_at(p) == u) return p;
  }
  return -1;
}

std::vector<int> UnitSchedule::PrefetchAfter(int pos, int depth) const {
  std::vector<int> out;
  const int self = unit_at(pos);
  for (int p = pos + 1; p <= pos + depth && p < size(); ++p) {
    const int u = unit_at(p);
    if (u == self || std::find(out.begin(), out.end(), u) != out.end()) {
      continue;
    }
    out.push_back(u);
  }
  return out;
}

bool UnitSchedule::KeepGatheredAfter(int pos,
                                     bool reshard_after_forward) const {
  const int next = NextUse(pos);
  if (next < 0) return false;           // last backward use
  if (is_backward(pos)) return true;    // more backward uses follow
  if (!is_backward(next)) return true;  // more forward uses follow
  if (next == pos + 1) return true;     // backward starts with this unit
  return !reshard_after_forward;
}

bool UnitSchedule::IsFirstBackwardUse(int pos) const {
  if (!is_backward(pos)) return false;
  const int u = unit_at(pos);
  for (int p = forward_uses(); p < pos; ++p) {
    if (unit_at(p) == u) return false;
  }
  return true;
}

bool UnitSchedule::IsLastBackwardUse(int pos) const {
  return is_backward(pos) && NextUse(pos) < 0;
}

}  // namespace dstrain::zero
