#include "common/byte_size.h"

#include <cstdio>

namespace dstrain {

std::string ApproxBinaryBytes(std::int64_t n) {
  char buf[32];
  if (n >= (std::int64_t{1} << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", n / double(1 << 30));
  } else if (n >= (1 << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", n / double(1 << 20));
  } else if (n >= (1 << 10)) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", n / double(1 << 10));
  } else {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(n));
  }
  return buf;
}

}  // namespace dstrain
