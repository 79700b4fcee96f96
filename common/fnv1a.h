#pragma once
// FNV-1a 64-bit hashing, the parameter digest ranks compare
// (TrainResult::param_digest): equal digests mean bitwise-equal bytes.

#include <cstddef>
#include <cstdint>
#include <string>

namespace dstrain {

class Fnv1a64 {
 public:
  void Update(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      hash_ = (hash_ ^ p[i]) * 0x100000001B3ULL;
    }
  }
  std::uint64_t value() const { return hash_; }
  // 16 lowercase hex digits.
  std::string Hex() const {
    static const char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i)
      out[15 - i] = kDigits[(hash_ >> (4 * i)) & 15];
    return out;
  }

 private:
  std::uint64_t hash_ = 0xCBF29CE484222325ULL;
};

}  // namespace dstrain
