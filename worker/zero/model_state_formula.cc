#include "worker/zero/model_state_formula.h"

#include <stdexcept>
#include <string>

namespace dstrain::zero {

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

}  // namespace dstrain::zero
