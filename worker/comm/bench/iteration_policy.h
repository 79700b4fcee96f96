#pragma once
// How many times `dstrain bench comm` (and its Python peer,
// bench/comm_torch.py, which mirrors this file) repeats a collective for one
// row. Pure.
//
// Per row: one checked run (also the first warm-up), one timed run whose
// time, the largest over the ranks, is the estimate that sets N, the timed
// runs per repeat; WarmupIterations(N x repeats) more untimed runs; then
// repeats of N timed runs: at least `repeats` of them, and, unless
// fixed_iters is set, more until `target_seconds` has been measured in all
// (so a noisy estimate cannot cut the measurement short). A row reports the
// median, fastest and slowest repeat, and iters = N x the repeats it ran.
// Every rank must run the same number, so the estimate and each repeat's
// time are agreed (all-reduced) before they are used.

namespace dstrain::comm::bench {

struct IterationPolicy {
  // Repeats continue until about this long has been measured…
  double target_seconds = 0.2;
  // …with at least this many timed runs in each…
  int min_iters = 3;
  // …and, beyond the first `repeats`, no more than this many in all (tiny
  // messages on a fast link; a row's floor is repeats x min_iters).
  int max_iters = 100000;
  // > 0: exactly this many timed runs in each of exactly `repeats` repeats.
  int fixed_iters = 0;
  // The spread (min, median, max) is over at least this many repeats.
  int repeats = 5;
};

// N, the timed runs per repeat: fixed_iters when set, else
// max(min_iters, ⌈target / (repeats x estimate)⌉), at most
// max(min_iters, max_iters / repeats). A non-positive estimate (a clock too
// coarse) gives the most.
int ChooseIterations(const IterationPolicy& policy, double estimate_seconds);

// After `done` repeats of `iters` runs each, which measured
// `measured_seconds` in all: whether to time one more. Always until
// `repeats`; then, unless fixed_iters is set, while less than
// target_seconds was measured and one more repeat stays within max_iters.
bool AnotherRepeat(const IterationPolicy& policy, int done, int iters,
                   double measured_seconds);

// The most timed runs a row can take (what the table header promises):
// max(max_iters, repeats x min_iters), or repeats x fixed_iters.
int MaxRowIterations(const IterationPolicy& policy);

// Untimed runs before the timed ones, beyond the checked and estimating
// runs: min(5, iters / 10) (nccl-tests warms up 5 times; large messages,
// which run few iterations, are warm after the first two).
int WarmupIterations(int iters);

}  // namespace dstrain::comm::bench
