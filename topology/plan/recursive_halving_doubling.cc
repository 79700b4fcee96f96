#include "topology/plan/recursive_halving_doubling.h"

#include <string>

namespace dstrain::topology {

Schedule RecursiveHalvingDoublingAllReduce(int32_t n, int32_t g) {
  Schedule s;
  s.algorithm = "rhd";
  s.nranks = n;
  s.ranks_per_node = g;
  if (n < 2) return s;
  int32_t p = 1;
  int log_p = 0;
  while (p * 2 <= n) {
    p *= 2;
    ++log_p;
  }
  const int32_t m = n - p;
  // Active index -> rank: the odd ranks of the first 2m, then the rest.
  auto rank_of = [&](int32_t i) { return i < m ? 2 * i + 1 : i + m; };
  if (m > 0) {
    Phase pre;
    pre.name = "fold extra ranks in";
    for (int32_t i = 0; i < m; ++i)
      pre.transfers.push_back({2 * i, 2 * i + 1, 1.0});
    s.phases.push_back(std::move(pre));
  }
  for (int j = 0; j < log_p; ++j) {
    const int32_t distance = p >> (j + 1);
    Phase ph;
    ph.name = "exchange at distance " + std::to_string(distance);
    ph.steps = 2;  // the reduce-scatter step and its all-gather mirror
    ph.transfers.reserve(p);
    const double fraction = 1.0 / static_cast<double>(int64_t{1} << (j + 1));
    for (int32_t i = 0; i < p; ++i)
      ph.transfers.push_back({rank_of(i), rank_of(i ^ distance), fraction});
    s.phases.push_back(std::move(ph));
  }
  if (m > 0) {
    Phase post;
    post.name = "hand results out";
    for (int32_t i = 0; i < m; ++i)
      post.transfers.push_back({2 * i + 1, 2 * i, 1.0});
    s.phases.push_back(std::move(post));
  }
  return s;
}

}  // namespace dstrain::topology
