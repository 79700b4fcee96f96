#pragma once
// How many times `dstrain bench comm` (and its Python peer,
// bench/comm_torch.py, which mirrors this file) repeats a collective for one
// row. Pure.
//
// Per row: one checked run (also the first warm-up), one timed run whose
// time, the largest over the ranks, is the estimate; then WarmupIterations
// more untimed runs and ChooseIterations timed ones. Every rank must run
// the same number, so the estimate is agreed (all-reduce max) before it is
// used.

namespace dstrain::comm::bench {

struct IterationPolicy {
  // Timed iterations continue until about this long has been measured…
  double target_seconds = 0.2;
  // …but never fewer than this many…
  int min_iters = 3;
  // …nor more than this many (tiny messages on a fast link).
  int max_iters = 100000;
  // > 0: exactly this many timed iterations, whatever the estimate.
  int fixed_iters = 0;
};

// max(min_iters, ⌈target / estimate⌉), at most max_iters; fixed_iters when
// set. A non-positive estimate (a clock too coarse) gives max_iters.
int ChooseIterations(const IterationPolicy& policy, double estimate_seconds);

// Untimed runs before the timed ones, beyond the checked and estimating
// runs: min(5, iters / 10) (nccl-tests warms up 5 times; large messages,
// which run few iterations, are warm after the first two).
int WarmupIterations(int iters);

}  // namespace dstrain::comm::bench
