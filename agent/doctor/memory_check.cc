// Memory and its NUMA layout (/proc/meminfo, /sys/devices/system/node).
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "agent/doctor/checks.h"
#include "agent/doctor/sysfs.h"

namespace dstrain::agent::doctor {
namespace {

// "MemTotal:  11495636 kB" (or "Node 0 MemTotal: ...") in `text`, bytes.
long long Field(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::size_t at = line.find(key + ":");
    if (at == std::string::npos) continue;
    std::istringstream v(line.substr(at + key.size() + 1));
    long long kb = -1;
    v >> kb;
    return kb < 0 ? -1 : kb * 1024;
  }
  return -1;
}

std::string Gib(long long bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB",
                static_cast<double>(bytes) / (1 << 30));
  return b;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::string text, line;
  for (int n = 0; n < 200 && std::getline(in, line); ++n) text += line + "\n";
  return text;
}

}  // namespace

void CheckMemory(const DoctorOptions& o, Checks& out) {
  const std::string meminfo = ReadAll(o.sys_root + "/proc/meminfo");
  const long long total = Field(meminfo, "MemTotal");
  const long long available = Field(meminfo, "MemAvailable");
  if (total <= 0) {
    Add(out, "memory", "memory", "/proc/meminfo unreadable", "warn",
        "cannot tell how much memory the ranks have");
  } else {
    const std::string found =
        Gib(total) + " total, " +
        (available >= 0 ? Gib(available) + " available" : "available unknown");
    if (available >= 0 && available * 10 < total) {
      Add(out, "memory", "memory", found, "warn",
          "under 10% available: ranks and data loaders may be killed by the "
          "OOM killer; look for leftover processes");
    } else {
      Add(out, "memory", "memory", found);
    }
  }
  const std::string nodes_dir = o.sys_root + "/sys/devices/system/node";
  int nodes = 0;
  std::string layout;
  for (const std::string& name : ListDir(nodes_dir)) {
    if (name.rfind("node", 0) != 0 || name.size() < 5 ||
        !std::isdigit(static_cast<unsigned char>(name[4]))) {
      continue;
    }
    ++nodes;
    const std::string dir = nodes_dir + "/" + name;
    const std::string cpus = ReadTrimmed(dir + "/cpulist").value_or("?");
    const long long mem = Field(ReadAll(dir + "/meminfo"), "MemTotal");
    if (!layout.empty()) layout += "; ";
    layout += name + ": CPUs " + cpus + ", " + (mem > 0 ? Gib(mem) : "?");
  }
  if (nodes == 0) {
    Add(out, "numa", "numa", "no NUMA information (one node assumed)");
  } else {
    Add(out, "numa", std::to_string(nodes) + " node" + (nodes == 1 ? "" : "s"),
        layout);
  }
}

}  // namespace dstrain::agent::doctor
