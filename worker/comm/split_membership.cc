#include "worker/comm/split_membership.h"

#include <algorithm>
#include <cassert>

namespace dstrain::comm {

std::optional<SplitMembership> ComputeSplit(
    const std::vector<SplitRequest>& requests, int parent_rank) {
  assert(parent_rank >= 0 && parent_rank < static_cast<int>(requests.size()));
  const SplitRequest mine = requests[parent_rank];
  if (mine.color < 0) return std::nullopt;
  SplitMembership m;
  m.color = mine.color;
  for (int r = 0; r < static_cast<int>(requests.size()); ++r) {
    if (requests[r].color == mine.color) m.members.push_back(r);
  }
  std::stable_sort(m.members.begin(), m.members.end(), [&](int a, int b) {
    return requests[a].key < requests[b].key;
  });
  m.rank = static_cast<int>(
      std::find(m.members.begin(), m.members.end(), parent_rank) -
      m.members.begin());
  return m;
}

}  // namespace dstrain::comm
