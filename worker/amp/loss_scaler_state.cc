#include "worker/amp/loss_scaler_state.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

#include "common/strings.h"

namespace dstrain::amp {
namespace {

constexpr std::string_view kMagic = "loss_scaler v1";

std::string Hex(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

std::string Num(double v) {
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

Status Field(const std::string& name, const std::string& value,
             const std::string& why) {
  return InvalidArgument("loss scaler state: " + name + " = " + value + " " +
                         why);
}

StatusOr<double> ParseDouble(const std::string& key, const std::string& text) {
  if (text.empty()) return Field(key, "''", "is not a number");
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE) {
    return Field(key, "'" + text + "'", "is not a number");
  }
  return v;
}

StatusOr<std::int64_t> ParseInt(const std::string& key,
                                const std::string& text) {
  if (text.empty()) return Field(key, "''", "is not an integer");
  const std::optional<std::int64_t> v = ParseInteger<std::int64_t>(text);
  if (!v) return Field(key, "'" + text + "'", "is not an integer");
  return *v;
}

}  // namespace

LossScalerState DisabledLossScalerState() {
  LossScalerState s;
  s.enabled = false;
  s.scale = 1.0;
  return s;
}

Status ValidateLossScalerState(const LossScalerState& s) {
  if (!s.enabled) {
    if (s.scale != 1.0) {
      return Field("scale", Num(s.scale), "must be 1 when disabled");
    }
    return Status::Ok();
  }
  if (!std::isfinite(s.scale) || s.scale <= 0 ||
      static_cast<double>(static_cast<float>(s.scale)) != s.scale) {
    return Field("scale", Num(s.scale),
                 "must be a finite float32 value above 0");
  }
  if (!(s.growth_factor > 1.0) || !std::isfinite(s.growth_factor)) {
    return Field("growth_factor", Num(s.growth_factor),
                 "must be finite and above 1");
  }
  if (!(s.backoff_factor > 0.0 && s.backoff_factor < 1.0)) {
    return Field("backoff_factor", Num(s.backoff_factor),
                 "must be between 0 and 1 (exclusive)");
  }
  if (s.growth_interval < 1 || s.growth_interval > INT32_MAX) {
    return Field("growth_interval", std::to_string(s.growth_interval),
                 "must be between 1 and 2^31-1");
  }
  if (s.growth_tracker < 0 || s.growth_tracker >= s.growth_interval) {
    return Field("growth_tracker", std::to_string(s.growth_tracker),
                 "must be between 0 and growth_interval - 1 (" +
                     std::to_string(s.growth_interval - 1) + ")");
  }
  return Status::Ok();
}

std::string SerializeLossScalerState(const LossScalerState& s) {
  std::string out(kMagic);
  out += " enabled=" + std::string(s.enabled ? "1" : "0");
  out += " scale=" + Hex(s.scale);
  out += " growth_tracker=" + std::to_string(s.growth_tracker);
  out += " growth_factor=" + Hex(s.growth_factor);
  out += " backoff_factor=" + Hex(s.backoff_factor);
  out += " growth_interval=" + std::to_string(s.growth_interval);
  return out;
}

StatusOr<LossScalerState> ParseLossScalerState(std::string_view text) {
  if (text.substr(0, kMagic.size()) != kMagic) {
    return InvalidArgument("loss scaler state: does not start with '" +
                           std::string(kMagic) + "'");
  }
  std::map<std::string, std::string> fields;
  std::istringstream in(std::string(text.substr(kMagic.size())));
  std::string item;
  while (in >> item) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("loss scaler state: '" + item +
                             "' is not key=value");
    }
    const std::string key = item.substr(0, eq);
    if (!fields.emplace(key, item.substr(eq + 1)).second) {
      return InvalidArgument("loss scaler state: " + key + " given twice");
    }
  }
  static const char* const kKeys[] = {"enabled",        "scale",
                                      "growth_tracker", "growth_factor",
                                      "backoff_factor", "growth_interval"};
  for (const auto& [key, value] : fields) {
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known) {
      return InvalidArgument("loss scaler state: unknown key '" + key + "'");
    }
  }
  for (const char* k : kKeys) {
    if (fields.count(k) == 0) {
      return InvalidArgument(std::string("loss scaler state: missing ") + k);
    }
  }

  LossScalerState s;
  const std::string& enabled = fields["enabled"];
  if (enabled != "0" && enabled != "1") {
    return Field("enabled", "'" + enabled + "'", "is not 0 or 1");
  }
  s.enabled = enabled == "1";
  DSTRAIN_ASSIGN_OR_RETURN(double scale, ParseDouble("scale", fields["scale"]));
  s.scale = scale;
  DSTRAIN_ASSIGN_OR_RETURN(
      std::int64_t tracker,
      ParseInt("growth_tracker", fields["growth_tracker"]));
  s.growth_tracker = tracker;
  DSTRAIN_ASSIGN_OR_RETURN(
      double growth, ParseDouble("growth_factor", fields["growth_factor"]));
  s.growth_factor = growth;
  DSTRAIN_ASSIGN_OR_RETURN(
      double backoff, ParseDouble("backoff_factor", fields["backoff_factor"]));
  s.backoff_factor = backoff;
  DSTRAIN_ASSIGN_OR_RETURN(
      std::int64_t interval,
      ParseInt("growth_interval", fields["growth_interval"]));
  s.growth_interval = interval;
  DSTRAIN_RETURN_IF_ERROR(ValidateLossScalerState(s));
  return s;
}

}  // namespace dstrain::amp
