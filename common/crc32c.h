#pragma once
// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected), the checksum of
// every checkpoint file and of TensorBoard's event records: the one iSCSI,
// ext4 and LevelDB use. Pure; no torch. Incremental: feed the bytes in any
// split and the value is the same as over the whole.
//
//   Crc32c c;  c.Update(a, n);  c.Update(b, m);  c.value();
//
// Known answer: "123456789" → 0xE3069283.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dstrain {

class Crc32c {
 public:
  void Update(const void* data, std::size_t size);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  std::uint32_t value() const { return ~state_; }

 private:
  std::uint32_t state_ = 0xFFFFFFFFu;
};

std::uint32_t Crc32cOf(const void* data, std::size_t size);

// "0x" and 8 lowercase hex digits, as the manifest writes checksums.
std::string Crc32cHex(std::uint32_t crc);

// TFRecord's "masked" CRC, ((crc >> 15) | (crc << 17)) + 0xa282ead8, which
// keeps a CRC stored in the data it covers from checksumming to a fixed
// value (TensorBoard event files).
std::uint32_t MaskedCrc32c(std::string_view bytes);

}  // namespace dstrain
