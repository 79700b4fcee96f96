#include "worker/comm/bench/size_sweep.h"

#include <algorithm>

#include "common/units.h"

namespace dstrain::comm::bench {

StatusOr<std::vector<std::int64_t>> SweepSizes(std::int64_t min_bytes,
                                               std::int64_t max_bytes,
                                               int factor) {
  if (min_bytes < 1) return InvalidArgument("the smallest size must be >= 1 B");
  if (min_bytes > max_bytes) {
    return InvalidArgument("the smallest size (" + FormatByteSize(min_bytes) +
                           ") is above the largest (" +
                           FormatByteSize(max_bytes) + ")");
  }
  if (factor < 2) return InvalidArgument("the size step must be >= 2");
  std::vector<std::int64_t> out;
  for (std::int64_t s = min_bytes; s <= max_bytes;) {
    out.push_back(s);
    if (s > max_bytes / factor) break;
    s *= factor;
  }
  if (out.back() != max_bytes) out.push_back(max_bytes);
  return out;
}

StatusOr<std::vector<std::int64_t>> SweepSizesFromFlags(
    std::string_view min_bytes, std::string_view max_bytes) {
  DSTRAIN_ASSIGN_OR_RETURN(std::int64_t lo,
                           ParseByteSize(min_bytes, "--min-bytes"));
  DSTRAIN_ASSIGN_OR_RETURN(std::int64_t hi,
                           ParseByteSize(max_bytes, "--max-bytes"));
  StatusOr<std::vector<std::int64_t>> sizes = SweepSizes(lo, hi);
  if (!sizes.ok()) {
    return InvalidArgument("--min-bytes/--max-bytes: " +
                           sizes.status().message());
  }
  return sizes;
}

BufferShape ShapeFor(BenchOp op, std::int64_t bytes, int element_size,
                     int world_size) {
  BufferShape s;
  if (element_size <= 0 || world_size <= 0) return s;
  switch (op) {
    case BenchOp::kBarrier:
      return s;
    case BenchOp::kAllReduce:
    case BenchOp::kBroadcast:
      s.count = std::max<std::int64_t>(1, bytes / element_size);
      s.count_per_rank = s.count;
      break;
    case BenchOp::kAllGather:
    case BenchOp::kReduceScatter:
      s.count_per_rank = std::max<std::int64_t>(
          1, bytes / (std::int64_t{element_size} * world_size));
      s.count = s.count_per_rank * world_size;
      break;
  }
  s.bytes = s.count * element_size;
  return s;
}

}  // namespace dstrain::comm::bench
