#include "topology/sim/cost_model.h"

#include <algorithm>
#include <cmath>

#include "topology/plan/double_binary_tree.h"

namespace dstrain::topology {

double AllReduceLowerBound(int64_t n, double bytes, double bandwidth) {
  if (n < 2) return 0;
  return 2.0 * static_cast<double>(n - 1) / static_cast<double>(n) * bytes /
         bandwidth;
}

double CollectiveLowerBound(Collective c, const FabricCapacity& f,
                            double bytes) {
  if (f.ranks < 2 || c == Collective::kBarrier) return 0;
  const double k = c == Collective::kAllReduce ? 2 : 1;
  double t = 0;
  if (f.hosts >= 2 && f.network_bandwidth > 0) {
    t = k * static_cast<double>(f.hosts - 1) * bytes / f.network_bandwidth;
    if (c == Collective::kAllReduce && f.min_host_bandwidth > 0)
      t = std::max(t, bytes / f.min_host_bandwidth);
  }
  const double leave =
      f.intra_bandwidth + (f.hosts >= 2 ? f.network_bandwidth : 0);
  if (leave > 0)
    t = std::max(t, k * static_cast<double>(f.ranks - 1) * bytes / leave);
  return t;
}

double RingAllReduceTime(int64_t n, double bytes, double alpha,
                         double bandwidth) {
  if (n < 2) return 0;
  return 2.0 * static_cast<double>(n - 1) *
         (alpha + bytes / static_cast<double>(n) / bandwidth);
}

double RingReduceScatterTime(int64_t n, double bytes, double alpha,
                             double bandwidth) {
  if (n < 2) return 0;
  return static_cast<double>(n - 1) *
         (alpha + bytes / static_cast<double>(n) / bandwidth);
}

double RecursiveHalvingDoublingTime(int64_t n, double bytes, double alpha,
                                    double bandwidth) {
  if (n < 2) return 0;
  int64_t p = 1;
  int log_p = 0;
  while (p * 2 <= n) {
    p *= 2;
    ++log_p;
  }
  const double halving = 2.0 * static_cast<double>(p - 1) /
                         static_cast<double>(p) * bytes / bandwidth;
  if (p == n) return 2.0 * log_p * alpha + halving;
  return 2.0 * (log_p + 1) * alpha + halving + 2.0 * bytes / bandwidth;
}

double DoubleBinaryTreeTime(const TreeParams& p, double bytes) {
  const int64_t n = p.nodes * p.ranks_per_node;
  if (n < 2) return 0;
  const double chunk = std::min(p.chunk_bytes, bytes / 2);
  double t = 0;
  double bottleneck = p.host_bandwidth;
  if (p.ranks_per_node > 1)
    t += 2.0 * (p.ranks_per_node - 1) *
         (p.host_alpha + chunk / p.host_bandwidth);
  if (p.nodes > 1) {
    const auto trees = BuildDoubleBinaryTree(static_cast<int32_t>(p.nodes));
    const int depth = std::max(TreeDepth(trees[0]), TreeDepth(trees[1]));
    t += 2.0 * depth * (p.alpha + chunk / p.bandwidth);
    bottleneck =
        p.ranks_per_node > 1 ? std::min(bottleneck, p.bandwidth) : p.bandwidth;
  }
  return t + 2.0 * bytes / bottleneck;
}

double HierarchicalAllReduceTime(int64_t nodes, int64_t g, double bytes,
                                 double alpha, double bandwidth,
                                 double host_alpha, double host_bandwidth) {
  double t = 0;
  if (g > 1) t += 2.0 * (g - 1) * (host_alpha + bytes / g / host_bandwidth);
  if (nodes > 1) t += 2.0 * (nodes - 1) * (alpha + bytes / nodes / bandwidth);
  return t;
}

double TorusAllReduceTime(int dims, int extent, int64_t g, double bytes,
                          double alpha, double bandwidth, double host_alpha,
                          double host_bandwidth, double chunk_bytes) {
  const double hosts = std::pow(static_cast<double>(extent), dims);
  const double parts = 2.0 * dims;
  const double c = std::min(chunk_bytes, bytes / parts / g / extent);
  double t = std::max(bytes * (1 - 1 / hosts) / (dims * bandwidth),
                      2.0 * (g - 1) / g * bytes / host_bandwidth);
  if (g > 1) t += 2.0 * (g - 1) * (host_alpha + c / host_bandwidth);
  t += 2.0 * dims * (extent - 1) * (alpha + c / bandwidth);
  return t;
}

}  // namespace dstrain::topology
