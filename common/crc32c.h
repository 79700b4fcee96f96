#pragma once
// CRC-32C (Castagnoli, the polynomial 0x1EDC6F41 reflected), as TFRecord
// files (TensorBoard's event files) and iSCSI use it; and TFRecord's
// "masked" form of it, which keeps a CRC stored in the data it covers from
// checksumming to a fixed value. Pure functions.

#include <cstdint>
#include <string_view>

namespace dstrain {

std::uint32_t Crc32c(std::string_view bytes);

// ((crc >> 15) | (crc << 17)) + 0xa282ead8, as TFRecord stores CRCs.
std::uint32_t MaskedCrc32c(std::string_view bytes);

}  // namespace dstrain
