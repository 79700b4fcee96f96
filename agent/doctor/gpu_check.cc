// NVIDIA GPUs on the PCI bus (/sys/bus/pci/devices): PCIe link against the
// slot's maximum, NUMA node, name and memory from nvidia-smi (the
// inventory), and the driver (/sys/module/nvidia/version).
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "agent/doctor/checks.h"
#include "agent/doctor/gpu_devices.h"
#include "agent/doctor/sysfs.h"

namespace dstrain::agent::doctor {
namespace {

// "00000000:17:00.0" (nvidia-smi) and "0000:17:00.0" (sysfs) -> "17:00.0".
std::string BusKey(std::string id) {
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const std::size_t colon = id.find(':');
  return colon == std::string::npos ? id : id.substr(colon + 1);
}

}  // namespace

std::vector<GpuDevice> FindGpus(const std::string& sys_root) {
  std::vector<GpuDevice> gpus;
  const std::string bus = sys_root + "/sys/bus/pci/devices";
  for (const std::string& addr : ListDir(bus)) {
    const std::string dir = bus + "/" + addr;
    const std::optional<long long> vendor = ReadInt(dir + "/vendor");
    const std::optional<long long> cls = ReadInt(dir + "/class");
    // NVIDIA; display controllers (VGA 0x0300xx, 3D 0x0302xx).
    if (vendor != 0x10de || !cls.has_value() || (*cls >> 16) != 0x03) continue;
    GpuDevice g;
    g.address = addr;
    g.link = ReadPciLink(dir);
    g.numa_node = static_cast<int>(ReadInt(dir + "/numa_node").value_or(-1));
    gpus.push_back(g);
  }
  return gpus;
}

void CheckGpus(const DoctorOptions& o, Checks& out) {
  const std::vector<GpuDevice> gpus = FindGpus(o.sys_root);
  const std::optional<std::string> driver =
      ReadTrimmed(o.sys_root + "/sys/module/nvidia/version");
  if (gpus.empty()) {
    Add(out, "gpu", "gpus", "no NVIDIA GPU on the PCI bus (CPU ranks only)");
    return;
  }
  for (const GpuDevice& g : gpus) {
    std::string found;
    for (const proto::Gpu& inv : o.inventory.gpus()) {
      if (BusKey(inv.pci_bus_id()) == BusKey(g.address)) {
        char mem[32];
        std::snprintf(mem, sizeof mem, "%.0f GiB",
                      static_cast<double>(inv.memory_bytes()) / (1 << 30));
        found = inv.name() + ", " + mem + "; ";
      }
    }
    found += g.link.Describe() + "; NUMA node " + std::to_string(g.numa_node);
    const std::string subject = "GPU " + g.address;
    if (g.link.narrower()) {
      Add(out, "gpu", subject, found, "warn",
          "trained at x" + std::to_string(g.link.width) + " of x" +
              std::to_string(g.link.max_width) +
              ": host-device copies and GPUDirect traffic get " +
              std::to_string(100 * g.link.width / g.link.max_width) +
              "% of the bandwidth; reseat the card or check its slot and "
              "riser");
    } else if (g.link.slower()) {
      Add(out, "gpu", subject, found, "ok",
          "link below its maximum speed: normal while the GPU idles (it "
          "lowers the speed to save power); check again under load");
    } else {
      Add(out, "gpu", subject, found);
    }
  }
  if (driver.has_value()) {
    Add(out, "software", "NVIDIA driver", *driver);
  } else {
    Add(out, "software", "NVIDIA driver", "not loaded", "fail",
        "GPUs are present but the nvidia kernel module is not loaded: no "
        "CUDA job can run; install or load the driver");
  }
}

}  // namespace dstrain::agent::doctor
