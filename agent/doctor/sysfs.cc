#include "agent/doctor/sysfs.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dstrain::agent::doctor {

namespace fs = std::filesystem;

std::optional<std::string> ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  // sysfs files are small; a bound keeps a hostile tree harmless.
  char buf[4096];
  in.read(buf, sizeof buf);
  s.write(buf, in.gcount());
  std::string t = s.str();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) {
    t.pop_back();
  }
  return t;
}

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end;
       it.increment(ec)) {
    names.push_back(it->path().filename().string());
    if (names.size() > 4096) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<long long> ReadInt(const std::string& path) {
  std::optional<std::string> t = ReadTrimmed(path);
  if (!t.has_value() || t->empty()) return std::nullopt;
  char* end = nullptr;
  const long long v = std::strtoll(t->c_str(), &end, 0);
  if (end == t->c_str()) return std::nullopt;
  return v;
}

double ParseLinkSpeed(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v <= 0 || v > 1000) return 0;
  return v;
}

std::string PciLink::Describe() const {
  if (!known()) return "PCIe link unknown";
  auto speed = [](double s) {
    char b[32];
    std::snprintf(b, sizeof b, "%g GT/s", s);
    return std::string(b);
  };
  return "PCIe " + speed(speed_gts) + " x" + std::to_string(width) + " (max " +
         speed(max_speed_gts) + " x" + std::to_string(max_width) + ")";
}

PciLink ReadPciLink(const std::string& dir) {
  PciLink l;
  l.speed_gts =
      ParseLinkSpeed(ReadTrimmed(dir + "/current_link_speed").value_or(""));
  l.max_speed_gts =
      ParseLinkSpeed(ReadTrimmed(dir + "/max_link_speed").value_or(""));
  l.width = static_cast<int>(ReadInt(dir + "/current_link_width").value_or(0));
  l.max_width = static_cast<int>(ReadInt(dir + "/max_link_width").value_or(0));
  return l;
}

}  // namespace dstrain::agent::doctor
