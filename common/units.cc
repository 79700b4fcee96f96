#include "common/units.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "common/strings.h"

namespace dstrain {
namespace {

// The number `text` starts with and what follows it ("256M" → 256, "M").
// Unlike ParseInteger, the text need not be only the number.
template <typename T>
bool LeadingNumber(std::string_view text, T* value, std::string_view* rest) {
  const char* end = text.data() + text.size();
  const auto [stop, ec] = std::from_chars(text.data(), end, *value);
  if (ec != std::errc()) return false;
  *rest = std::string_view(stop, end - stop);
  return true;
}

// "400 Gb/s" → 400 and "Gb/s"; false unless it starts with a finite number.
bool NumberAndUnit(std::string_view text, double* value,
                   std::string_view* unit) {
  if (!LeadingNumber(Trim(text), value, unit) || !std::isfinite(*value)) {
    return false;
  }
  *unit = Trim(*unit);
  return true;
}

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string FourDigits(double v) { return StrFormat("%.4g", v); }

}  // namespace

StatusOr<std::int64_t> ParseByteSize(std::string_view text,
                                     std::string_view flag) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(std::string(flag) + ": `" + std::string(text) +
                           "` " + why +
                           " (expected bytes like 8, 4K, 256M or 1G)");
  };
  std::int64_t value = 0;
  std::string_view suffix;
  if (!LeadingNumber(text, &value, &suffix)) return bad("is not a size");
  const std::string unit_name = Lower(suffix);
  std::int64_t unit = 1;
  if (unit_name.empty() || unit_name == "b") {
    unit = 1;
  } else if (unit_name == "k" || unit_name == "kb" || unit_name == "kib") {
    unit = kKiB;
  } else if (unit_name == "m" || unit_name == "mb" || unit_name == "mib") {
    unit = kMiB;
  } else if (unit_name == "g" || unit_name == "gb" || unit_name == "gib") {
    unit = kGiB;
  } else {
    return bad("has an unknown unit `" + std::string(suffix) + "`");
  }
  if (value < 1) return bad("is not positive");
  if (value > kTiB / unit) return bad("is larger than 1 TiB");
  return value * unit;
}

std::string FormatByteSize(std::int64_t bytes) {
  static constexpr struct {
    std::int64_t unit;
    const char* suffix;
  } kUnits[] = {{kGiB, " GiB"}, {kMiB, " MiB"}, {kKiB, " KiB"}};
  for (const auto& u : kUnits) {
    if (bytes >= u.unit && bytes % u.unit == 0) {
      return std::to_string(bytes / u.unit) + u.suffix;
    }
  }
  return std::to_string(bytes) + " B";
}

std::string ApproxBinaryBytes(std::int64_t n) {
  if (n >= kGiB) return StrFormat("%.1f GiB", n / double(kGiB));
  if (n >= kMiB) return StrFormat("%.1f MiB", n / double(kMiB));
  if (n >= kKiB) return StrFormat("%.1f KiB", n / double(kKiB));
  return StrFormat("%lld B", static_cast<long long>(n));
}

std::optional<double> ParseBandwidth(std::string_view text) {
  double v = 0;
  std::string_view unit;
  if (!NumberAndUnit(text, &v, &unit) || unit.empty() || !(v > 0))
    return std::nullopt;
  static constexpr struct {
    char prefix;
    double scale;
  } kPrefixes[] = {{'K', 1e3}, {'k', 1e3}, {'M', 1e6}, {'G', 1e9}, {'T', 1e12}};
  double scale = 1;
  for (const auto& p : kPrefixes) {
    if (unit.front() == p.prefix) {
      scale = p.scale;
      unit.remove_prefix(1);
      break;
    }
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
  if (!NumberAndUnit(text, &v, &unit) || unit.empty() || v < 0)
    return std::nullopt;
  if (unit == "ns") return v * 1e-9;
  if (unit == "us" || unit == "\u00b5s" || unit == "\u03bcs") return v * 1e-6;
  if (unit == "ms") return v * 1e-3;
  if (unit == "s") return v;
  return std::nullopt;
}

std::string FormatBandwidth(double bytes_per_second) {
  const double b = bytes_per_second;
  if (b >= 1e12) return FourDigits(b / 1e12) + " TB/s";
  if (b >= 1e9) return FourDigits(b / 1e9) + " GB/s";
  if (b >= 1e6) return FourDigits(b / 1e6) + " MB/s";
  if (b >= 1e3) return FourDigits(b / 1e3) + " kB/s";
  return FourDigits(b) + " B/s";
}

std::string FormatLatency(double s) {
  if (s == 0) return "0 s";
  if (s < 1e-6) return FourDigits(s * 1e9) + " ns";
  if (s < 1e-3) return FourDigits(s * 1e6) + " us";
  if (s < 1) return FourDigits(s * 1e3) + " ms";
  return FourDigits(s) + " s";
}

std::string FormatSeconds(double s) {
  if (!std::isfinite(s)) return "-";
  if (s >= 1) return StrFormat("%.3f s", s);
  if (s >= 1e-3) return StrFormat("%.3f ms", s * 1e3);
  return StrFormat("%.2f us", s * 1e6);
}

std::string FormatRate(double v) {
  if (!std::isfinite(v)) return "-";
  if (v >= 1e6) return StrFormat("%.2fM", v / 1e6);
  if (v >= 1e3) return StrFormat("%.1fk", v / 1e3);
  return StrFormat("%.0f", v);
}

}  // namespace dstrain
