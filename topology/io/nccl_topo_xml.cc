#include "topology/io/nccl_topo_xml.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace dstrain::topology {
namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

// "0000:1b:00.0" (or "1b:00.0") -> lower-case with domain; "" if malformed.
std::string NormalizeBusId(const std::string& id) {
  std::string s = id;
  if (s.size() == 7) s = "0000:" + s;
  // dddd:bb:dd.f
  if (s.size() != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.') return "";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7 || i == 10) continue;
    if (!IsHex(s[i])) return "";
    if (s[i] >= 'A' && s[i] <= 'F') s[i] = static_cast<char>(s[i] - 'A' + 'a');
  }
  return s;
}

struct Attr {
  const char* key;
  std::string value;
};

std::string Tag(int indent, const char* name, const std::vector<Attr>& attrs,
                bool close) {
  std::string out(indent * 2, ' ');
  out += '<';
  out += name;
  for (const Attr& a : attrs) {
    out += ' ';
    out += a.key;
    out += "=\"" + XmlEscape(a.value) + "\"";
  }
  out += close ? "/>\n" : ">\n";
  return out;
}

std::string End(int indent, const char* name) {
  return std::string(indent * 2, ' ') + "</" + name + ">\n";
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string CpuMask(const std::vector<int>& cpus) {
  int max_cpu = -1;
  for (int c : cpus) max_cpu = std::max(max_cpu, c);
  if (max_cpu < 0) return "";
  std::vector<uint32_t> words(max_cpu / 32 + 1, 0);
  for (int c : cpus)
    if (c >= 0) words[c / 32] |= uint32_t{1} << (c % 32);
  std::string out;
  for (size_t i = words.size(); i-- > 0;) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", words[i]);
    if (!out.empty()) out += ',';
    out += buf;
  }
  return out;
}

StatusOr<std::string> NcclTopologyXml(const HostInfo& host,
                                      const NcclXmlOptions& o) {
  if (host.devices < 1)
    return InvalidArgument("NCCL topology: the host has no devices");
  std::set<int> numa_ids;
  for (const NumaInfo& n : host.numa_nodes) numa_ids.insert(n.id);
  for (const DeviceInfo& d : host.device_info)
    if (d.numa_node >= 0) numa_ids.insert(d.numa_node);
  for (const NicInfo& n : host.nics)
    if (n.numa_node >= 0) numa_ids.insert(n.numa_node);
  const int fallback_numa = numa_ids.empty() ? 0 : *numa_ids.begin();
  numa_ids.insert(fallback_numa);
  auto numa_of = [&](int n) { return n >= 0 ? n : fallback_numa; };

  if (static_cast<int>(host.device_info.size()) != host.devices) {
    return InvalidArgument(
        "NCCL topology: " + std::to_string(host.devices) + " devices but " +
        std::to_string(host.device_info.size()) +
        " described; NCCL matches GPUs by PCI bus id, so every device needs "
        "one");
  }
  std::set<std::string> bus_ids;
  std::vector<std::string> dev_bus(host.device_info.size());
  for (size_t i = 0; i < host.device_info.size(); ++i) {
    const DeviceInfo& d = host.device_info[i];
    dev_bus[i] = NormalizeBusId(d.pci_bus_id);
    if (dev_bus[i].empty()) {
      return InvalidArgument(
          "NCCL topology: device " + std::to_string(d.index) +
          (d.pci_bus_id.empty()
               ? " has no PCI bus id"
               : " has a malformed PCI bus id `" + d.pci_bus_id +
                     "` (expected like 0000:1b:00.0)"));
    }
    if (!bus_ids.insert(dev_bus[i]).second) {
      return InvalidArgument("NCCL topology: PCI bus id " + dev_bus[i] +
                             " appears twice");
    }
  }
  std::vector<std::string> nic_bus(host.nics.size());
  for (size_t i = 0; i < host.nics.size(); ++i) {
    const NicInfo& n = host.nics[i];
    if (n.pci_bus_id.empty()) continue;
    nic_bus[i] = NormalizeBusId(n.pci_bus_id);
    if (nic_bus[i].empty()) {
      return InvalidArgument("NCCL topology: NIC `" + n.name +
                             "` has a malformed PCI bus id `" + n.pci_bus_id +
                             "` (expected like 0000:1c:00.0)");
    }
    if (!bus_ids.insert(nic_bus[i]).second) {
      return InvalidArgument("NCCL topology: PCI bus id " + nic_bus[i] +
                             " appears twice");
    }
  }

  auto net = [&](size_t i, int indent) {
    const NicInfo& n = host.nics[i];
    std::vector<Attr> attrs = {{"name", n.name}, {"dev", std::to_string(i)}};
    if (n.bandwidth > 0) {
      attrs.push_back(
          {"speed", std::to_string(std::llround(n.bandwidth * 8 / 1e6))});
    }
    attrs.push_back({"port", std::to_string(n.port)});
    if (!n.guid.empty()) attrs.push_back({"guid", n.guid});
    attrs.push_back({"maxconn", std::to_string(o.net_maxconn)});
    attrs.push_back({"gdr", o.gdr ? "1" : "0"});
    return Tag(indent, "net", attrs, true);
  };

  std::string out = Tag(0, "system", {{"version", "1"}}, false);
  for (int numa : numa_ids) {
    std::vector<Attr> cpu = {{"numaid", std::to_string(numa)}};
    for (const NumaInfo& n : host.numa_nodes) {
      if (n.id == numa && !n.cpus.empty())
        cpu.push_back({"affinity", CpuMask(n.cpus)});
    }
    cpu.push_back({"arch", o.cpu_arch});
    if (o.cpu_arch == "x86_64") {
      cpu.push_back({"vendor", o.cpu_vendor});
      cpu.push_back({"familyid", std::to_string(o.cpu_family)});
      cpu.push_back({"modelid", std::to_string(o.cpu_model)});
    }
    out += Tag(1, "cpu", cpu, false);
    for (size_t i = 0; i < host.device_info.size(); ++i) {
      const DeviceInfo& d = host.device_info[i];
      if (numa_of(d.numa_node) != numa) continue;
      out += Tag(2, "pci",
                 {{"busid", dev_bus[i]},
                  {"class", "0x030200"},
                  {"link_speed", o.pci_link_speed},
                  {"link_width", std::to_string(o.pci_link_width)}},
                 false);
      out += Tag(3, "gpu",
                 {{"dev", std::to_string(d.index)},
                  {"sm", std::to_string(d.sm > 0 ? d.sm : o.default_sm)},
                  {"rank", std::to_string(d.index)},
                  {"gdr", o.gdr ? "1" : "0"}},
                 true);
      out += End(2, "pci");
    }
    bool loose = false;  // NICs without a bus id, on this node
    for (size_t i = 0; i < host.nics.size(); ++i) {
      if (numa_of(host.nics[i].numa_node) != numa) continue;
      if (nic_bus[i].empty()) {
        loose = true;
        continue;
      }
      out += Tag(2, "pci",
                 {{"busid", nic_bus[i]},
                  {"class", "0x020700"},
                  {"link_speed", o.pci_link_speed},
                  {"link_width", std::to_string(o.pci_link_width)}},
                 false);
      out += Tag(3, "nic", {}, false);
      out += net(i, 4);
      out += End(3, "nic");
      out += End(2, "pci");
    }
    if (loose) {
      out += Tag(2, "nic", {}, false);
      for (size_t i = 0; i < host.nics.size(); ++i) {
        if (numa_of(host.nics[i].numa_node) == numa && nic_bus[i].empty())
          out += net(i, 3);
      }
      out += End(2, "nic");
    }
    out += End(1, "cpu");
  }
  out += End(0, "system");
  return out;
}

}  // namespace dstrain::topology
