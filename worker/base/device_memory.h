#pragma once
// Device memory of a GPU rank from the CUDA caching allocator's
// statistics: the peak of allocated bytes since the last reset, what
// torch.cuda.max_memory_allocated() and reset_peak_memory_stats() are in
// PyTorch. Builds without CUDA (device_memory_none.cc) and CPU devices
// report 0.

#include <c10/core/Device.h>

#include <cstdint>

namespace dstrain::base {

std::int64_t DevicePeakAllocatedBytes(c10::Device device);
void ResetDevicePeak(c10::Device device);

}  // namespace dstrain::base
