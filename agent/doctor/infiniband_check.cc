// InfiniBand and RoCE ports (/sys/class/infiniband/DEV/ports/N): state,
// rate against the node's fastest port of the same link layer, link
// layer, NUMA node; then each GPU without an HCA on its NUMA node.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "agent/doctor/checks.h"
#include "agent/doctor/gpu_devices.h"
#include "agent/doctor/sysfs.h"

namespace dstrain::agent::doctor {
namespace {

struct Port {
  std::string device;
  std::string port;
  std::string state;       // "ACTIVE", "DOWN", "INIT", "ARMED"
  std::string phys_state;  // "LinkUp", "Disabled", "Polling"
  double gbps = 0;
  std::string rate;        // as written: "200 Gb/sec (4X HDR)"
  std::string link_layer;  // "InfiniBand" or "Ethernet" (RoCE)
  int numa_node = -1;
  PciLink link;
};

// "4: ACTIVE" -> "ACTIVE".
std::string StateWord(const std::string& s) {
  const std::size_t colon = s.find(':');
  std::string w = colon == std::string::npos ? s : s.substr(colon + 1);
  const std::size_t start = w.find_first_not_of(' ');
  return start == std::string::npos ? w : w.substr(start);
}

std::string FailReason(const Port& p) {
  if (p.state == "DOWN") {
    return "port is DOWN (physical state " + p.phys_state +
           "): no traffic can use it; check the cable and the switch port";
  }
  if (p.state == "INIT") {
    return "link is up but no subnet manager has configured the port; "
           "check the fabric's subnet manager (opensm)";
  }
  return "port is " + p.state + ", not ACTIVE: NCCL will not use it";
}

}  // namespace

void CheckInfiniband(const DoctorOptions& o, Checks& out) {
  const std::string root = o.sys_root + "/sys/class/infiniband";
  std::vector<Port> ports;
  for (const std::string& dev : ListDir(root)) {
    const std::string ddir = root + "/" + dev;
    const int numa =
        static_cast<int>(ReadInt(ddir + "/device/numa_node").value_or(-1));
    const PciLink link = ReadPciLink(ddir + "/device");
    for (const std::string& n : ListDir(ddir + "/ports")) {
      const std::string pdir = ddir + "/ports/" + n;
      Port p;
      p.device = dev;
      p.port = n;
      p.state = StateWord(ReadTrimmed(pdir + "/state").value_or("?"));
      p.phys_state = StateWord(ReadTrimmed(pdir + "/phys_state").value_or("?"));
      p.rate = ReadTrimmed(pdir + "/rate").value_or("?");
      p.gbps = std::strtod(p.rate.c_str(), nullptr);
      p.link_layer = ReadTrimmed(pdir + "/link_layer").value_or("InfiniBand");
      p.numa_node = numa;
      p.link = link;
      ports.push_back(p);
    }
  }
  if (ports.empty()) {
    Add(out, "infiniband", "hcas",
        "no InfiniBand or RoCE device (inter-node traffic goes over TCP)");
    return;
  }
  for (const Port& p : ports) {
    double fastest = 0;
    for (const Port& q : ports) {
      if (q.link_layer == p.link_layer && q.state == "ACTIVE") {
        fastest = std::max(fastest, q.gbps);
      }
    }
    const std::string layer =
        p.link_layer == "Ethernet" ? "RoCE" : p.link_layer;
    std::string found = p.state + ", " + p.rate + ", " + layer +
                        "; NUMA node " + std::to_string(p.numa_node);
    if (p.link.known()) found += "; " + p.link.Describe();
    const std::string subject = p.device + " port " + p.port;
    if (p.state != "ACTIVE") {
      Add(out, "infiniband", subject, found, "fail", FailReason(p));
    } else if (p.gbps > 0 && p.gbps < fastest) {
      auto rate = [](double g) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", g);
        return std::string(b);
      };
      Add(out, "infiniband", subject, found, "warn",
          "runs at " + rate(p.gbps) + " Gb/s where the node's other " + layer +
              " ports run " + rate(fastest) +
              " Gb/s: a cable or switch port negotiated down, and every ring "
              "through it slows to its rate");
    } else if (p.link.narrower() || p.link.slower()) {
      Add(out, "infiniband", subject, found, "warn",
          "PCIe link below its maximum: the HCA cannot reach its line rate");
    } else {
      Add(out, "infiniband", subject, found);
    }
  }
  // GPUDirect RDMA wants an HCA on the GPU's own socket.
  std::set<int> hca_numa;
  for (const Port& p : ports) hca_numa.insert(p.numa_node);
  for (const GpuDevice& g : FindGpus(o.sys_root)) {
    if (g.numa_node < 0 || hca_numa.count(g.numa_node) > 0) continue;
    Add(out, "infiniband", "GPU " + g.address,
        "NUMA node " + std::to_string(g.numa_node) + ", no HCA there", "warn",
        "no HCA on this GPU's NUMA node: its inter-node traffic crosses the "
        "CPU interconnect");
  }
}

}  // namespace dstrain::agent::doctor
