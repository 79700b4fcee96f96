#pragma once
// The nccl-tests bandwidth figures of a collective, one definition for the
// measured benchmark (`dstrain bench comm`) and the topology simulator's
// predictions (`dstrain topo`), so a measured and a predicted busbw compare:
//
//   algbw = S / t          (S: the size of the full buffer, as nccl-tests)
//   busbw = algbw · factor  all-reduce 2(n−1)/n; all-gather and
//                           reduce-scatter (n−1)/n; broadcast 1; barrier 0
//                           (moves no data)
//
// busbw is comparable with a link's bandwidth whatever n is. Pure;
// thread-safe.

#include <cstdint>

namespace dstrain {

// In the order `dstrain bench comm` sweeps them.
enum class Collective {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kBroadcast,
  kBarrier
};

// The factor from algbw to busbw on `ranks` ranks; 0 when ranks < 1.
double BusBandwidthFactor(Collective c, std::int64_t ranks);

// bytes / seconds; 0 unless seconds > 0.
double AlgBandwidth(double bytes, double seconds);

// AlgBandwidth × BusBandwidthFactor.
double BusBandwidth(Collective c, std::int64_t ranks, double bytes,
                    double seconds);

}  // namespace dstrain
