#pragma once
// How long an agent waits before its next call to a coordinator that does
// not answer: the heartbeat interval while it answers, then doubling with
// each failure up to a cap, each delay drawn with jitter so that thousands
// of agents whose coordinator restarted do not all call back in the same
// instant ("full jitter" over the upper half of the interval).
// Pure function of its arguments and the random draw; thread-safe.

#include <chrono>
#include <random>

namespace dstrain::agent {

struct RetryDelayOptions {
  std::chrono::milliseconds base{2000};  // the heartbeat interval
  std::chrono::milliseconds cap{15000};  // longest wait while failing
};

// `failures`: calls that failed in a row (0: the last one answered). The
// result lies in [d/2, d] for d = min(base * 2^failures, cap), and is
// exactly `base` when failures is 0.
std::chrono::milliseconds NextRetryDelay(const RetryDelayOptions& options,
                                         int failures, std::mt19937_64& rng);

}  // namespace dstrain::agent
