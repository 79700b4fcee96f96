// The CPU: model, logical CPUs and the vector instruction sets libtorch's
// CPU kernels dispatch on (/proc/cpuinfo).
#include <fstream>
#include <set>
#include <sstream>

#include "agent/doctor/checks.h"
#include "agent/doctor/sysfs.h"

namespace dstrain::agent::doctor {
namespace {

std::string After(const std::string& line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string::npos) return "";
  std::string v = line.substr(colon + 1);
  const std::size_t start = v.find_first_not_of(" \t");
  return start == std::string::npos ? "" : v.substr(start);
}

}  // namespace

void CheckCpu(const DoctorOptions& o, Checks& out) {
  std::ifstream in(o.sys_root + "/proc/cpuinfo");
  if (!in) {
    Add(out, "cpu", "cpu", "/proc/cpuinfo unreadable", "warn",
        "cannot tell the CPU's instruction sets");
    return;
  }
  std::string line, model;
  int cpus = 0;
  std::set<std::string> flags;
  bool have_flags = false;
  int lines = 0;
  while (std::getline(in, line) && ++lines < 1'000'000) {
    if (line.rfind("processor", 0) == 0) ++cpus;
    if (model.empty() && line.rfind("model name", 0) == 0) model = After(line);
    if (!have_flags && (line.rfind("flags", 0) == 0)) {
      have_flags = true;
      std::istringstream words(After(line));
      for (std::string w; words >> w;) flags.insert(w);
    }
  }
  if (model.empty()) model = "unknown model";
  std::string found = model + "; " + std::to_string(cpus) + " logical CPUs";
  if (!have_flags) {
    Add(out, "cpu", "cpu", found + " (not x86: no AVX checks)");
    return;
  }
  const bool avx2 = flags.count("avx2") > 0;
  const bool avx512 = flags.count("avx512f") > 0;
  const bool amx = flags.count("amx_tile") > 0;
  found += std::string("; AVX2 ") + (avx2 ? "yes" : "no") + ", AVX-512 " +
           (avx512 ? "yes" : "no") + ", AMX " + (amx ? "yes" : "no");
  if (!avx2) {
    Add(out, "cpu", "cpu", found, "warn",
        "no AVX2: libtorch's CPU kernels take their slow paths (data "
        "loading and CPU ranks run several times slower)");
    return;
  }
  Add(out, "cpu", "cpu", found);
}

}  // namespace dstrain::agent::doctor
