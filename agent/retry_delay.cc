#include "agent/retry_delay.h"

#include <algorithm>

namespace dstrain::agent {

std::chrono::milliseconds NextRetryDelay(const RetryDelayOptions& options,
                                         int failures, std::mt19937_64& rng) {
  if (failures <= 0) return options.base;
  // Doubling stops at the cap (and well before the shift could overflow).
  std::int64_t d = options.base.count();
  for (int i = 0; i < failures && d < options.cap.count(); ++i) d *= 2;
  d = std::min<std::int64_t>(d, options.cap.count());
  std::uniform_int_distribution<std::int64_t> draw(d / 2, d);
  return std::chrono::milliseconds(draw(rng));
}

}  // namespace dstrain::agent
