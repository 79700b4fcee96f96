#include "worker/comm/bench/iteration_policy.h"

#include <algorithm>
#include <cmath>

namespace dstrain::comm::bench {

int ChooseIterations(const IterationPolicy& policy, double estimate_seconds) {
  if (policy.fixed_iters > 0) return policy.fixed_iters;
  const int lo = std::max(1, policy.min_iters);
  const int hi = std::max(lo, policy.max_iters);
  if (!(estimate_seconds > 0)) return hi;
  const double want = std::ceil(policy.target_seconds / estimate_seconds);
  if (!(want < hi)) return hi;
  return std::max(lo, static_cast<int>(want));
}

int WarmupIterations(int iters) { return std::min(5, std::max(0, iters / 10)); }

}  // namespace dstrain::comm::bench
