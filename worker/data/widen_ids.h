#pragma once
// Token ids as a file stores them (little-endian integers of 1, 2, 4 or 8
// bytes, signed or not) widened into the caller's type: the one loop
// behind every file source (token files, HDF5), which the compiler
// vectorises per element type. Internal to worker/data; pure.

#include <cstddef>
#include <cstdint>

namespace dstrain::data {

// `n` ids of `bytes` bytes each at `p` into `out`.
template <typename T>
void WidenIds(const unsigned char* p, std::int64_t n, std::size_t bytes,
              bool is_signed, T* out) {
  auto run = [&](auto tag) {
    using E = decltype(tag);
    const E* e = reinterpret_cast<const E*>(p);
    for (std::int64_t k = 0; k < n; ++k) out[k] = static_cast<T>(e[k]);
  };
  switch (bytes) {
    case 1:
      is_signed ? run(std::int8_t{}) : run(std::uint8_t{});
      break;
    case 2:
      is_signed ? run(std::int16_t{}) : run(std::uint16_t{});
      break;
    case 4:
      is_signed ? run(std::int32_t{}) : run(std::uint32_t{});
      break;
    default:
      is_signed ? run(std::int64_t{}) : run(std::uint64_t{});
      break;
  }
}

}  // namespace dstrain::data
