#include "common/bus_bandwidth.h"

namespace dstrain {

double BusBandwidthFactor(Collective c, std::int64_t ranks) {
  if (ranks < 1) return 0.0;
  const double n = static_cast<double>(ranks);
  switch (c) {
    case Collective::kAllReduce:
      return 2.0 * (n - 1) / n;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
      return (n - 1) / n;
    case Collective::kBroadcast:
      return 1.0;
    case Collective::kBarrier:
      return 0.0;
  }
  return 0.0;
}

double AlgBandwidth(double bytes, double seconds) {
  return seconds > 0 ? bytes / seconds : 0.0;
}

double BusBandwidth(Collective c, std::int64_t ranks, double bytes,
                    double seconds) {
  return AlgBandwidth(bytes, seconds) * BusBandwidthFactor(c, ranks);
}

}  // namespace dstrain
