// A build without CUDA: no device memory to report.
#include "worker/base/device_memory.h"

namespace dstrain::base {

std::int64_t DevicePeakAllocatedBytes(c10::Device) { return 0; }
void ResetDevicePeak(c10::Device) {}

}  // namespace dstrain::base
