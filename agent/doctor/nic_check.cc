// Physical network interfaces (/sys/class/net/*/device): state, speed,
// PCIe link against its maximum, NUMA node. Virtual interfaces (loopback,
// bridges, veth) have no device and are skipped.
#include "agent/doctor/checks.h"
#include "agent/doctor/sysfs.h"

namespace dstrain::agent::doctor {

void CheckNics(const DoctorOptions& o, Checks& out) {
  const std::string net = o.sys_root + "/sys/class/net";
  int found_any = 0;
  for (const std::string& name : ListDir(net)) {
    const std::string dir = net + "/" + name;
    if (ListDir(dir + "/device").empty()) continue;  // virtual
    ++found_any;
    const std::string state = ReadTrimmed(dir + "/operstate").value_or("?");
    const long long mbps = ReadInt(dir + "/speed").value_or(-1);
    const PciLink link = ReadPciLink(dir + "/device");
    const int numa =
        static_cast<int>(ReadInt(dir + "/device/numa_node").value_or(-1));
    std::string found = state;
    if (mbps > 0) found += ", " + std::to_string(mbps / 1000) + " Gb/s";
    if (link.known()) found += "; " + link.Describe();
    found += "; NUMA node " + std::to_string(numa);
    if (link.narrower() || link.slower()) {
      Add(out, "nic", name, found, "warn",
          "PCIe link below its maximum: the NIC cannot reach its line rate; "
          "check the slot (and BIOS bifurcation settings)");
    } else {
      Add(out, "nic", name, found);
    }
  }
  if (found_any == 0) {
    Add(out, "nic", "nics", "no physical network interface (virtual only)");
  }
}

}  // namespace dstrain::agent::doctor
