#include "worker/comm/bench/size_sweep.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace dstrain::comm::bench {
namespace {

constexpr std::int64_t kMaxBytes = std::int64_t{1} << 40;  // 1 TiB: a typo

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

StatusOr<std::int64_t> ParseByteSize(std::string_view text,
                                     std::string_view flag) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(std::string(flag) + ": `" + std::string(text) +
                           "` " + why +
                           " (expected bytes like 8, 4K, 256M or 1G)");
  };
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) return bad("is not a size");
  const std::string suffix = Lower(std::string_view(ptr, end - ptr));
  std::int64_t unit = 1;
  if (suffix.empty() || suffix == "b") {
    unit = 1;
  } else if (suffix == "k" || suffix == "kb" || suffix == "kib") {
    unit = std::int64_t{1} << 10;
  } else if (suffix == "m" || suffix == "mb" || suffix == "mib") {
    unit = std::int64_t{1} << 20;
  } else if (suffix == "g" || suffix == "gb" || suffix == "gib") {
    unit = std::int64_t{1} << 30;
  } else {
    return bad("has an unknown unit `" + std::string(ptr, end - ptr) + "`");
  }
  if (value < 1) return bad("is not positive");
  if (value > kMaxBytes / unit) return bad("is larger than 1 TiB");
  return value * unit;
}

std::string FormatByteSize(std::int64_t bytes) {
  static constexpr struct {
    std::int64_t unit;
    const char* suffix;
  } kUnits[] = {{std::int64_t{1} << 30, "G"},
                {std::int64_t{1} << 20, "M"},
                {std::int64_t{1} << 10, "K"}};
  for (const auto& u : kUnits) {
    if (bytes >= u.unit && bytes % u.unit == 0) {
      return std::to_string(bytes / u.unit) + u.suffix;
    }
  }
  return std::to_string(bytes);
}

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
