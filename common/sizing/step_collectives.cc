#include "common/sizing/step_collectives.h"

#include <map>
#include <utility>

namespace dstrain::sizing {

const char* CollectiveName(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::kAllReduce:
      return "all-reduce";
    case CollectiveKind::kAllGather:
      return "all-gather";
    case CollectiveKind::kReduceScatter:
      return "reduce-scatter";
  }
  return "?";
}

std::vector<CollectiveCall> StepCollectives(
    std::span<const std::int64_t> unit_numels, const StepCollectiveOptions& o) {
  const std::int64_t w = o.world < 1 ? 1 : o.world;
  const std::int64_t g = o.grad_accum < 1 ? 1 : o.grad_accum;
  std::map<std::pair<CollectiveKind, std::int64_t>, std::int64_t> calls;
  auto add = [&](CollectiveKind k, std::int64_t numel, std::int64_t n) {
    if (n > 0) calls[{k, (numel + w - 1) / w * w * o.param_bytes}] += n;
  };
  if (o.stage == 0) {
    std::int64_t all = 0;
    for (std::int64_t n : unit_numels) all += (n + w - 1) / w * w;
    add(CollectiveKind::kAllReduce, all, 1);
  }
  for (std::size_t u = 0; u < unit_numels.size() && o.stage > 0; ++u) {
    const std::int64_t n = unit_numels[u];
    const bool root = u == 0;
    switch (o.stage) {
      case 1:
        add(CollectiveKind::kReduceScatter, n, 1);
        add(CollectiveKind::kAllGather, n, 1);
        break;
      case 2:
        add(CollectiveKind::kReduceScatter, n, g);
        add(CollectiveKind::kAllGather, n, 1);
        break;
      default:
        add(CollectiveKind::kAllGather, n,
            g * (root || !o.reshard_after_forward ? 1 : 2));
        add(CollectiveKind::kReduceScatter, n, g);
        break;
    }
  }
  std::vector<CollectiveCall> out;
  for (const auto& [key, count] : calls) {
    out.push_back({key.first, key.second, count});
  }
  return out;
}

double SentBytesPerRank(const CollectiveCall& call, int world) {
  if (world <= 1) return 0;
  const double share = static_cast<double>(world - 1) / world;
  const double factor = call.kind == CollectiveKind::kAllReduce ? 2 : 1;
  return factor * share * static_cast<double>(call.bytes) *
         static_cast<double>(call.count);
}

}  // namespace dstrain::sizing
