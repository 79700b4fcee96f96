#include "topology/plan/ring.h"

namespace dstrain::topology {
namespace {

Schedule RingSchedule(const char* algorithm, const char* phase, int32_t n,
                      int32_t ranks_per_node, int64_t steps) {
  Schedule s;
  s.algorithm = algorithm;
  s.nranks = n;
  s.ranks_per_node = ranks_per_node;
  if (n < 2) return s;
  Phase p;
  p.name = phase;
  p.kind = PhaseKind::kSteps;
  p.steps = steps;
  p.transfers.reserve(n);
  for (int32_t r = 0; r < n; ++r)
    p.transfers.push_back({r, (r + 1) % n, 1.0 / n});
  s.phases.push_back(std::move(p));
  return s;
}

}  // namespace

Schedule RingAllReduce(int32_t nranks, int32_t ranks_per_node) {
  return RingSchedule("ring", "ring reduce-scatter + all-gather", nranks,
                      ranks_per_node, 2 * static_cast<int64_t>(nranks - 1));
}

Schedule RingReduceScatter(int32_t nranks, int32_t ranks_per_node) {
  return RingSchedule("ring", "ring reduce-scatter", nranks, ranks_per_node,
                      nranks - 1);
}

Schedule RingAllGather(int32_t nranks, int32_t ranks_per_node) {
  return RingSchedule("ring", "ring all-gather", nranks, ranks_per_node,
                      nranks - 1);
}

}  // namespace dstrain::topology
