#include "topology/io/units.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace dstrain::topology {
namespace {

// Splits "400 Gb/s" into 400 and "Gb/s".
bool SplitNumber(std::string_view text, double* value, std::string_view* unit) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(begin, end, *value);
  if (ec != std::errc() || !std::isfinite(*value)) return false;
  std::string_view rest(stop, end - stop);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  *unit = rest;
  return true;
}

std::string Trimmed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

std::optional<double> ParseBandwidth(std::string_view text) {
  double v = 0;
  std::string_view unit;
  if (!SplitNumber(text, &v, &unit) || unit.empty() || !(v > 0))
    return std::nullopt;
  double scale = 1;
  switch (unit.front()) {
    case 'K':
    case 'k':
      scale = 1e3;
      unit.remove_prefix(1);
      break;
    case 'M':
      scale = 1e6;
      unit.remove_prefix(1);
      break;
    case 'G':
      scale = 1e9;
      unit.remove_prefix(1);
      break;
    case 'T':
      scale = 1e12;
      unit.remove_prefix(1);
      break;
    default:
      break;
  }
  double per = 0;  // bytes per unit
  if (unit == "b/s" || unit == "bps" || unit == "bit/s")
    per = 1.0 / 8;
  else if (unit == "B/s" || unit == "Bps")
    per = 1;
  else
    return std::nullopt;
  return v * scale * per;
}

std::optional<double> ParseLatency(std::string_view text) {
  double v = 0;
  std::string_view unit;
  if (!SplitNumber(text, &v, &unit) || unit.empty() || v < 0)
    return std::nullopt;
  if (unit == "ns") return v * 1e-9;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return v * 1e-6;
  if (unit == "ms") return v * 1e-3;
  if (unit == "s") return v;
  return std::nullopt;
}

std::string FormatBandwidth(double bps) {
  const double bits = bps * 8;
  if (bits >= 1e12) return Trimmed(bits / 1e12) + " Tb/s";
  if (bits >= 1e9) return Trimmed(bits / 1e9) + " Gb/s";
  if (bits >= 1e6) return Trimmed(bits / 1e6) + " Mb/s";
  return Trimmed(bits) + " b/s";
}

std::string FormatLatency(double s) {
  if (s == 0) return "0 s";
  if (s < 1e-6) return Trimmed(s * 1e9) + " ns";
  if (s < 1e-3) return Trimmed(s * 1e6) + " us";
  if (s < 1) return Trimmed(s * 1e3) + " ms";
  return Trimmed(s) + " s";
}

}  // namespace dstrain::topology
