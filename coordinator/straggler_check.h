#pragma once
// Which ranks hold a synchronous job back. Every rank's step takes as long
// as the slowest one's (they meet in the collectives), so a straggler is
// found by its own work: step time less the time it waited in collectives
// and for data, averaged over a window of steps. A rank is slow when that
// is above `factor` times the job's median (and at least 1 ms above it, so
// that noise on a tiny model is no straggler).
//
// The verdict names hosts, except where slow ranks on two or more hosts
// share a leaf switch: then the leaf is named (what those hosts share is
// the switch and its links), e.g.
//   "rank 1 on node-2 (leaf0): 0.120 s of work per step, 2.3x the median
//    0.052 s"
//   "leaf leaf0 (ranks 1 on node-1, 3 on node-2): 0.120-0.131 s of work
//    per step, 2.3-2.5x the median 0.052 s"
// Pure.

#include <string>
#include <vector>

namespace dstrain::coordinator {

struct RankWork {
  int rank = 0;
  std::string host;
  std::string leaf;   // "" without a cluster description
  double work_s = 0;  // mean per step over the window
};

struct Stragglers {
  std::vector<int> ranks;  // ascending
  std::string summary;     // "" when none
};

Stragglers FindStragglers(const std::vector<RankWork>& ranks, double factor);

// The median of `v` (the mean of the middle two for an even count); 0 for
// none.
double Median(std::vector<double> v);

}  // namespace dstrain::coordinator
