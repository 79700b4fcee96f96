#include "common/sizing/devices.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace dstrain::sizing {
namespace {

// Dense 16-bit tensor TFLOPS with FP32 accumulation: GeForce cards run
// FP32 accumulation at half their FP16-accumulate rate (Ampere GA10x and
// Ada whitepapers); data-center parts at the full rate. H100 and H200 are
// the SXM parts.
constexpr DeviceSpec kDevices[] = {
    {"RTX 3060", 12, 25.5, "3060"},   {"L4", 24, 121.0, "L4"},
    {"A10", 24, 125.0, "A10"},        {"RTX 3090", 24, 71.0, "3090"},
    {"RTX 4090", 24, 165.2, "4090"},  {"V100-32GB", 32, 125.0, "V100"},
    {"A100-40GB", 40, 312.0, "A100"}, {"A40", 48, 149.7, "A40"},
    {"L40S", 48, 362.1, "L40S"},      {"A100-80GB", 80, 312.0, "A100"},
    {"H100", 80, 989.4, "H100"},      {"H200", 141, 989.4, "H200"},
};

std::string Normalise(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
  }
  for (const char* noise : {"NVIDIA", "GEFORCE", "TESLA"}) {
    const std::size_t at = out.find(noise);
    if (at != std::string::npos) out.erase(at, std::string_view(noise).size());
  }
  return out;
}

// "80GB" from a memory figure.
std::string MemoryTag(double gib) {
  return std::to_string(static_cast<int>(std::lround(gib))) + "GB";
}

}  // namespace

std::span<const DeviceSpec> KnownDevices() { return kDevices; }

const DeviceSpec* FindDevice(std::string_view name) {
  const std::string want = Normalise(name);
  if (want.empty()) return nullptr;
  // Exact names first ("H100", "A10080GB").
  for (const DeviceSpec& d : kDevices) {
    if (Normalise(d.name) == want) return &d;
  }
  // Then a name as nvidia-smi writes it: the longest family word found
  // ("A100" over "A10", "L40S" over "L4"), and the memory where the family
  // comes in several sizes.
  std::size_t longest = 0;
  for (const DeviceSpec& d : kDevices) {
    const std::string family = Normalise(d.nvidia_smi);
    if (want.find(family) != std::string::npos) {
      longest = std::max(longest, family.size());
    }
  }
  const DeviceSpec* found = nullptr;
  int matches = 0;
  for (const DeviceSpec& d : kDevices) {
    const std::string family = Normalise(d.nvidia_smi);
    if (family.size() != longest || want.find(family) == std::string::npos) {
      continue;
    }
    int sizes = 0;
    for (const DeviceSpec& o : kDevices) {
      if (std::string_view(o.nvidia_smi) == d.nvidia_smi) ++sizes;
    }
    if (sizes > 1 && want.find(MemoryTag(d.memory_gib)) == std::string::npos)
      continue;
    found = &d;
    ++matches;
  }
  return matches == 1 ? found : nullptr;
}

std::string KnownDeviceNames() {
  std::string s;
  for (const DeviceSpec& d : kDevices) {
    if (!s.empty()) s += ", ";
    s += d.name;
  }
  return s;
}

double RuleOfThumbGb(std::int64_t params) {
  return static_cast<double>(params) / 1e8 * 0.4 + 6;
}

std::int64_t RuleOfThumbMaxParams(double memory_gb) {
  if (memory_gb <= 6) return 0;
  return static_cast<std::int64_t>(std::llround((memory_gb - 6) / 0.4 * 1e8));
}

}  // namespace dstrain::sizing
