#include "common/sizing/gpt_size.h"

namespace dstrain::sizing {

std::int64_t FeedForwardWidth(const config::ModelConfig& m) {
  return m.d_ff > 0 ? m.d_ff : 4 * std::int64_t{m.d_model};
}

std::vector<std::int64_t> GptUnitNumels(const config::ModelConfig& m) {
  const std::int64_t c = m.d_model, f = FeedForwardWidth(m);
  std::vector<std::int64_t> units;
  units.reserve(static_cast<std::size_t>(m.layers) + 1);
  units.push_back(std::int64_t{m.vocab} * c + std::int64_t{m.seq_len} * c +
                  2 * c);
  const std::int64_t block = 4 * c * c + 2 * c * f + 8 * c + f;
  for (int i = 0; i < m.layers; ++i) units.push_back(block);
  return units;
}

std::int64_t GptParameterCount(const config::ModelConfig& m) {
  std::int64_t n = 0;
  for (std::int64_t u : GptUnitNumels(m)) n += u;
  return n;
}

double GptTrainFlopsPerToken(const config::ModelConfig& m) {
  const double c = m.d_model, f = static_cast<double>(FeedForwardWidth(m));
  const double matmul_params =
      m.layers * (4 * c * c + 2 * c * f) + static_cast<double>(m.vocab) * c;
  return 6 * matmul_params + 12.0 * m.layers * m.seq_len * c;
}

}  // namespace dstrain::sizing
