// The CUDA build of device_memory.h: c10's caching allocator statistics.
#include <c10/cuda/CUDACachingAllocator.h>

#include "worker/base/device_memory.h"

namespace dstrain::base {

std::int64_t DevicePeakAllocatedBytes(c10::Device device) {
  if (!device.is_cuda()) return 0;
  const auto stats =
      c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
  return stats
      .allocated_bytes[static_cast<std::size_t>(
          c10::CachingAllocator::StatType::AGGREGATE)]
      .peak;
}

void ResetDevicePeak(c10::Device device) {
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
  }
}

}  // namespace dstrain::base
