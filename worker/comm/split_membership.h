#pragma once
// The arithmetic of Communicator::Split, shared by the backends that build
// sub-groups themselves (gloo, mpi's bookkeeping, tests): given every parent
// rank's (color, key), which ranks form this rank's new group and in what
// order. Pure.

#include <cstdint>
#include <optional>
#include <vector>

namespace dstrain::comm {

struct SplitRequest {
  std::int64_t color = 0;  // < 0: join no group
  std::int64_t key = 0;
};

struct SplitMembership {
  std::int64_t color = 0;
  int rank = 0;  // this rank's rank in the new group
  // Parent ranks of the new group, in new-rank order: sorted by (key,
  // parent rank), so equal keys keep the parent's order.
  std::vector<int> members;
  int size() const { return static_cast<int>(members.size()); }
};

// `requests[r]` is parent rank r's request. nullopt when `parent_rank`
// passed a negative colour. `parent_rank` must index `requests`.
std::optional<SplitMembership> ComputeSplit(
    const std::vector<SplitRequest>& requests, int parent_rank);

}  // namespace dstrain::comm
