#pragma once
// What the fuzz tests share besides the harness: the seed offset and the
// iteration scale they take from the environment (DSTRAIN_FUZZ_SEED picks
// another sequence, DSTRAIN_FUZZ_SCALE multiplies the iterations), and
// reading a corpus file whole.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace dstrain::fuzz {

inline std::uint32_t SeedOffset() {
  const char* s = std::getenv("DSTRAIN_FUZZ_SEED");
  return s == nullptr ? 0 : static_cast<std::uint32_t>(std::atol(s));
}

inline int Iterations(int n) {
  const char* s = std::getenv("DSTRAIN_FUZZ_SCALE");
  const int scale = s == nullptr ? 1 : std::max(1, std::atoi(s));
  return n * scale;
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace dstrain::fuzz
