#include "agent/node_probe.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/strings.h"
#include "common/units.h"

namespace dstrain::agent {
namespace {

// A number in a sysfs or /proc file or a CSV field, spaces around it allowed.
std::optional<long long> ParseInt(std::string_view s) {
  return ParseInteger<long long>(Trim(s));
}

bool ReadFile(const std::filesystem::path& p, std::string* out) {
  std::ifstream in(p);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::vector<std::string> InterfaceAddresses() {
  std::vector<std::string> addrs, loopback;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return addrs;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || !(a->ifa_flags & IFF_UP)) continue;
    int family = a->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    char host[NI_MAXHOST];
    socklen_t len =
        family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (getnameinfo(a->ifa_addr, len, host, sizeof(host), nullptr, 0,
                    NI_NUMERICHOST) != 0) {
      continue;
    }
    std::string h = host;
    // Link-local IPv6 addresses carry a %iface suffix and are useless to
    // other nodes.
    if (h.find('%') != std::string::npos) continue;
    ((a->ifa_flags & IFF_LOOPBACK) ? loopback : addrs).push_back(h);
  }
  freeifaddrs(list);
  // Routable addresses first; loopback only when there is nothing else.
  if (addrs.empty()) return loopback;
  return addrs;
}

int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

std::vector<proto::Gpu> ProbeGpus(const std::string& sys_root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(fs::path(sys_root) / "proc/driver/nvidia", ec)) return {};
  FILE* p = popen(
      "nvidia-smi --query-gpu=index,name,pci.bus_id,memory.total "
      "--format=csv,noheader,nounits 2>/dev/null",
      "re");
  if (p == nullptr) return {};
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  if (pclose(p) != 0) return {};
  auto gpus = ParseNvidiaSmiCsv(text);
  if (!gpus.ok()) return {};
  for (auto& g : *gpus) {
    // nvidia-smi prints an 8-digit PCI domain, sysfs a 4-digit one.
    std::string id = g.pci_bus_id();
    std::transform(id.begin(), id.end(), id.begin(), ::tolower);
    if (id.size() > 12) id = id.substr(id.size() - 12);
    std::string numa;
    std::optional<long long> node;
    if (ReadFile(fs::path(sys_root) / "sys/bus/pci/devices" / id / "numa_node",
                 &numa)) {
      node = ParseInt(numa);
    }
    g.set_numa_node(static_cast<int>(node.value_or(-1)));
  }
  return std::move(*gpus);
}

}  // namespace

StatusOr<std::vector<int>> ParseCpuList(std::string_view text) {
  std::vector<int> cpus;
  text = Trim(text);
  if (text.empty()) return cpus;
  for (std::string_view part : Split(text, ',')) {
    const std::vector<std::string_view> range = Split(part, '-');
    std::optional<long long> lo, hi;
    if (range.size() == 1) {
      lo = hi = ParseInt(range[0]);
    } else if (range.size() == 2) {
      lo = ParseInt(range[0]);
      hi = ParseInt(range[1]);
    }
    if (!lo || !hi || *lo > *hi || *lo < 0) {
      return InvalidArgument("bad CPU list item `" + std::string(part) +
                             "` in `" + std::string(text) + "`");
    }
    for (long long c = *lo; c <= *hi; ++c) cpus.push_back(static_cast<int>(c));
  }
  return cpus;
}

StatusOr<std::int64_t> ParseMemTotal(std::string_view meminfo) {
  for (std::string_view line : Split(meminfo, '\n')) {
    std::size_t key = line.find("MemTotal:");
    if (key == std::string_view::npos) continue;
    std::string_view rest = Trim(line.substr(key + 9));
    std::int64_t scale = 1;
    if (rest.size() > 2 && rest.substr(rest.size() - 2) == "kB") {
      scale = kKiB;  // the kernel's "kB" are KiB
      rest = rest.substr(0, rest.size() - 2);
    }
    const std::optional<long long> v = ParseInt(rest);
    if (!v || *v < 0) {
      return InvalidArgument("bad MemTotal line `" + std::string(line) + "`");
    }
    return static_cast<std::int64_t>(*v) * scale;
  }
  return InvalidArgument("no MemTotal line");
}

StatusOr<std::vector<proto::Gpu>> ParseNvidiaSmiCsv(std::string_view text) {
  std::vector<proto::Gpu> gpus;
  for (std::string_view line : Split(text, '\n')) {
    if (Trim(line).empty()) continue;
    const std::vector<std::string_view> fields = Split(line, ',');
    std::optional<long long> index, mib;
    if (fields.size() == 4) {
      index = ParseInt(fields[0]);
      mib = ParseInt(fields[3]);
    }
    if (!index || !mib) {
      return InvalidArgument("bad nvidia-smi line `" + std::string(line) +
                             "`; expected index, name, pci.bus_id, "
                             "memory.total");
    }
    proto::Gpu g;
    g.set_index(static_cast<int>(*index));
    g.set_name(std::string(Trim(fields[1])));
    g.set_pci_bus_id(std::string(Trim(fields[2])));
    g.set_memory_bytes(*mib * kMiB);
    g.set_numa_node(-1);
    gpus.push_back(std::move(g));
  }
  return gpus;
}

std::vector<proto::NumaNode> ProbeNumaNodes(const std::string& sys_root) {
  namespace fs = std::filesystem;
  std::vector<proto::NumaNode> nodes;
  fs::path dir = fs::path(sys_root) / "sys/devices/system/node";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("node", 0) != 0) continue;
    const std::optional<long long> id = ParseInt(name.substr(4));
    if (!id) continue;
    std::string cpulist, meminfo;
    if (!ReadFile(entry.path() / "cpulist", &cpulist)) continue;
    auto cpus = ParseCpuList(cpulist);
    if (!cpus.ok()) continue;
    proto::NumaNode node;
    node.set_id(static_cast<int>(*id));
    for (int c : *cpus) node.add_cpus(c);
    if (ReadFile(entry.path() / "meminfo", &meminfo)) {
      auto mem = ParseMemTotal(meminfo);
      if (mem.ok()) node.set_memory_bytes(*mem);
    }
    nodes.push_back(std::move(node));
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const auto& a, const auto& b) { return a.id() < b.id(); });
  return nodes;
}

proto::NodeInventory ProbeNode(const ProbeOptions& options) {
  proto::NodeInventory inv;
  if (!options.hostname.empty()) {
    inv.set_hostname(options.hostname);
  } else {
    char host[256] = {};
    if (gethostname(host, sizeof(host) - 1) == 0) inv.set_hostname(host);
  }
  for (auto& a : InterfaceAddresses()) inv.add_addresses(a);
  inv.set_cpus(UsableCpus());
  std::string meminfo;
  if (ReadFile(std::filesystem::path(options.sys_root) / "proc/meminfo",
               &meminfo)) {
    auto mem = ParseMemTotal(meminfo);
    if (mem.ok()) inv.set_memory_bytes(*mem);
  }
  for (auto& n : ProbeNumaNodes(options.sys_root)) {
    *inv.add_numa_nodes() = std::move(n);
  }
  if (options.probe_gpus) {
    for (auto& g : ProbeGpus(options.sys_root)) *inv.add_gpus() = std::move(g);
  }
  return inv;
}

}  // namespace dstrain::agent
