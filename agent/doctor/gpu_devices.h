#pragma once
// NVIDIA GPUs as the PCI bus shows them, for the GPU check and the NUMA
// affinity check of the InfiniBand one. Internal to agent/doctor.

#include <string>
#include <vector>

#include "agent/doctor/sysfs.h"

namespace dstrain::agent::doctor {

struct GpuDevice {
  std::string address;  // "0000:17:00.0"
  PciLink link;
  int numa_node = -1;
};

std::vector<GpuDevice> FindGpus(const std::string& sys_root);

}  // namespace dstrain::agent::doctor
