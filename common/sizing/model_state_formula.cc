#include "common/sizing/model_state_formula.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dstrain::sizing {

ModelStateBytes ExpectedModelStateBytes(int stage, std::int64_t psi, int world,
                                        int param_bytes) {
  if (world < 1) throw std::invalid_argument("world size must be >= 1");
  const std::int64_t p = param_bytes;
  const std::int64_t full = p * psi;
  const std::int64_t master_full = p != 4 ? 4 * psi : 0;
  const std::int64_t shard4 = 4 * psi / world;
  ModelStateBytes b;
  switch (stage) {
    case 0:
      b = {full + master_full, full + master_full, 8 * psi};
      break;
    case 1:
      b = {full + shard4, full + shard4, 2 * shard4};
      break;
    case 2:
      b = {full + shard4, shard4, 2 * shard4};
      break;
    case 3:
      b = {shard4, shard4, 2 * shard4};
      break;
    default:
      throw std::invalid_argument("no ZeRO stage " + std::to_string(stage));
  }
  return b;
}

namespace {

std::int64_t Padded(std::int64_t n, int world) {
  return (n + world - 1) / world * world;
}

void CheckArgs(int stage, int world) {
  if (world < 1) throw std::invalid_argument("world size must be >= 1");
  if (stage < 0 || stage > 3) {
    throw std::invalid_argument("no ZeRO stage " + std::to_string(stage));
  }
}

}  // namespace

ModelStateBytes ExactModelStateBytes(int stage,
                                     std::span<const std::int64_t> unit_numels,
                                     int world, int param_bytes) {
  CheckArgs(stage, world);
  std::int64_t padded = 0;
  for (std::int64_t n : unit_numels) padded += Padded(n, world);
  const std::int64_t p = param_bytes;
  const std::int64_t owned = stage == 0 ? padded : padded / world;
  const bool master_is_params = stage == 0 && p == 4;
  ModelStateBytes b;
  b.params = (stage <= 2 ? p * padded : 0) +
             (master_is_params ? 0 : 4 * owned) +
             (stage >= 1 && stage <= 2 && p != 4 ? p * owned : 0);
  b.grads = (stage <= 1 ? p * padded : 0) + (master_is_params ? 0 : 4 * owned);
  b.optimizer = 8 * owned;
  return b;
}

std::int64_t TransientModelStateBytes(int stage,
                                      std::span<const std::int64_t> unit_numels,
                                      int world, int param_bytes,
                                      int prefetch) {
  CheckArgs(stage, world);
  if (stage < 2 || unit_numels.empty()) return 0;
  std::int64_t largest = 0;
  for (std::size_t u = 1; u < unit_numels.size(); ++u) {
    largest = std::max(largest, Padded(unit_numels[u], world));
  }
  const std::int64_t root = Padded(unit_numels[0], world);
  largest = std::max(largest, root);
  const std::int64_t p = param_bytes;
  // Full gradients waiting for their reduce-scatter, and the shards those
  // write when they are not the fp32 gradient itself.
  constexpr int kPendingReductions = 3;
  const std::int64_t grad =
      kPendingReductions * (p * largest + (p != 4 ? p * largest / world : 0));
  if (stage == 2) return grad;
  const int others =
      std::min<int>(prefetch + 1, static_cast<int>(unit_numels.size()) - 1);
  return p * root + p * largest * others + grad;
}

}  // namespace dstrain::sizing
