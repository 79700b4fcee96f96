#pragma once
// Small readers of sysfs and procfs files for the doctor's checks. Pure
// apart from the reads; thread-safe.

#include <optional>
#include <string>
#include <vector>

namespace dstrain::agent::doctor {

// The file's text without trailing whitespace; nullopt when unreadable.
std::optional<std::string> ReadTrimmed(const std::string& path);

// The names in a directory, sorted; empty when it does not exist.
std::vector<std::string> ListDir(const std::string& path);

// An integer file ("16", "-1", "0x10de"); nullopt when absent or not a
// number.
std::optional<long long> ReadInt(const std::string& path);

// A device's PCIe link: `dir` is its PCI device directory (or a symlink to
// it, as /sys/class/net/X/device).
struct PciLink {
  double speed_gts = 0;  // 0: unknown
  double max_speed_gts = 0;
  int width = 0;  // 0: unknown
  int max_width = 0;

  bool known() const { return width > 0 && max_width > 0; }
  bool narrower() const { return known() && width < max_width; }
  bool slower() const {
    return speed_gts > 0 && max_speed_gts > 0 && speed_gts < max_speed_gts;
  }
  // "PCIe 16 GT/s x16 (max 16 GT/s x16)"; "PCIe link unknown".
  std::string Describe() const;
};
PciLink ReadPciLink(const std::string& dir);

// "16.0 GT/s PCIe" -> 16; "Unknown" -> 0.
double ParseLinkSpeed(const std::string& text);

}  // namespace dstrain::agent::doctor
