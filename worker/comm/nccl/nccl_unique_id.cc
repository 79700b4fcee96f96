#include "worker/comm/nccl/nccl_unique_id.h"

namespace dstrain::comm::nccl {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string EncodeUniqueId(const ncclUniqueId& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * NCCL_UNIQUE_ID_BYTES);
  for (char c : id.internal) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

StatusOr<ncclUniqueId> DecodeUniqueId(std::string_view hex,
                                      const std::string& where) {
  if (hex.size() != 2 * NCCL_UNIQUE_ID_BYTES) {
    return InvalidArgument("the NCCL unique id at " + where + " has " +
                           std::to_string(hex.size()) + " characters, not " +
                           std::to_string(2 * NCCL_UNIQUE_ID_BYTES) +
                           " hex digits");
  }
  ncclUniqueId id;
  for (int i = 0; i < NCCL_UNIQUE_ID_BYTES; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return InvalidArgument("the NCCL unique id at " + where +
                             " is not hex (character " +
                             std::to_string(hi < 0 ? 2 * i : 2 * i + 1) + ")");
    }
    id.internal[i] = static_cast<char>(hi << 4 | lo);
  }
  return id;
}

}  // namespace dstrain::comm::nccl
