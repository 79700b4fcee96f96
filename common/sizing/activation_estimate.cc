#include "common/sizing/activation_estimate.h"

#include <algorithm>

#include "common/sizing/gpt_size.h"

namespace dstrain::sizing {

ActivationEstimate EstimateGptActivations(const config::ModelConfig& m,
                                          int micro_batch, int compute_bytes) {
  const std::int64_t tokens = std::int64_t{micro_batch} * m.seq_len;
  const std::int64_t c = m.d_model, f = FeedForwardWidth(m);
  const std::int64_t e = compute_bytes;
  const std::int64_t block =
      (e == 4 ? 4 * (9 * c + 2 * f) : 22 * c + 4 * f) * tokens;
  const std::int64_t head = (8 * c + std::int64_t{m.vocab} * (e + 8)) * tokens;
  ActivationEstimate a;
  a.without_recompute = m.layers * block + head;
  a.with_recompute =
      m.layers * 4 * c * tokens + std::max(head, block + 8 * c * tokens);
  return a;
}

}  // namespace dstrain::sizing
