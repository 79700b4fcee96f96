#pragma once
// Accelerators `dstrain plan --gpu NAME` knows: memory and peak dense
// 16-bit tensor throughput (FP16/BF16 inputs, FP32 accumulation, no
// sparsity), as NVIDIA's data sheets and architecture whitepapers give
// them; and the operators' rule of thumb for the memory a transformer
// needs. Pure functions over a built-in table; thread-safe.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace dstrain::sizing {

struct DeviceSpec {
  const char* name;        // canonical, as --gpu and reports print it
  double memory_gib;       // as sold: "80 GB" (nvidia-smi shows ~80 GiB)
  double dense_tflops;     // FP16/BF16 tensor cores, FP32 accumulate, dense
  const char* nvidia_smi;  // a word of nvidia-smi's name that identifies it
};

// The table, smallest memory first.
std::span<const DeviceSpec> KnownDevices();

// By name, ignoring case, spaces, dashes and underscores, with or without
// "NVIDIA"/"GeForce" and a memory suffix where the name is unique without
// it: "h100", "A100-80GB", "a100 80gb", "RTX 4090", "NVIDIA GeForce RTX
// 4090", "NVIDIA A100-SXM4-40GB", "NVIDIA H100 80GB HBM3". nullptr when
// unknown or ambiguous ("A100" alone: 40 or 80 GB).
const DeviceSpec* FindDevice(std::string_view name);

// "RTX 3060, RTX 4090, ..." for error messages.
std::string KnownDeviceNames();

// The rule of thumb operators are given for transformer training: device
// memory (GB) >= parameters / 10^8 × 0.4 + 6, e.g. 7e9 → 34 GB. It ignores
// batch, sequence length, sharding and precision.
double RuleOfThumbGb(std::int64_t params);

// The largest model the rule allows on `memory_gb`: (memory - 6) / 0.4 ×
// 10^8 parameters; 0 below 6 GB.
std::int64_t RuleOfThumbMaxParams(double memory_gb);

}  // namespace dstrain::sizing
