#include "worker/comm/bench/iteration_policy.h"

#include <algorithm>
#include <cmath>

namespace dstrain::comm::bench {

int ChooseIterations(const IterationPolicy& policy, double estimate_seconds) {
  if (policy.fixed_iters > 0) return policy.fixed_iters;
  const int repeats = std::max(1, policy.repeats);
  const int lo = std::max(1, policy.min_iters);
  const int hi = std::max(lo, policy.max_iters / repeats);
  if (!(estimate_seconds > 0)) return hi;
  const double want =
      std::ceil(policy.target_seconds / (repeats * estimate_seconds));
  if (!(want < hi)) return hi;
  return std::max(lo, static_cast<int>(want));
}

bool AnotherRepeat(const IterationPolicy& policy, int done, int iters,
                   double measured_seconds) {
  if (done < std::max(1, policy.repeats)) return true;
  if (policy.fixed_iters > 0) return false;
  if (measured_seconds >= policy.target_seconds) return false;
  return static_cast<long long>(done + 1) * iters <= policy.max_iters;
}

int MaxRowIterations(const IterationPolicy& policy) {
  const int repeats = std::max(1, policy.repeats);
  if (policy.fixed_iters > 0) return repeats * policy.fixed_iters;
  return std::max(policy.max_iters, repeats * std::max(1, policy.min_iters));
}

int WarmupIterations(int iters) { return std::min(5, std::max(0, iters / 10)); }

}  // namespace dstrain::comm::bench
