#include "common/contract/grad_routes.h"

#include "common/strings.h"
#include "common/units.h"

namespace dstrain {
namespace {

bool KnownRoute(std::string_view via) {
  return via == "world" || via == "hierarchical" || via == "torus";
}

std::vector<GradRoute> Merged(const std::vector<GradRoute>& routes) {
  std::vector<GradRoute> out;
  for (const GradRoute& r : routes) {
    if (out.empty() || out.back().via != r.via) out.push_back(r);
  }
  return out;
}

}  // namespace

std::string FormatGradRoutes(const std::vector<GradRoute>& routes) {
  const std::vector<GradRoute> merged = Merged(routes);
  if (merged.empty()) return "";
  if (merged.size() == 1) return merged[0].via == "world" ? "" : merged[0].via;
  std::string out;
  for (const GradRoute& r : merged) {
    if (!out.empty()) out += ",";
    out += r.via + "@" + std::to_string(r.min_bytes);
  }
  return out;
}

StatusOr<std::vector<GradRoute>> ParseGradRoutes(std::string_view text) {
  std::vector<GradRoute> out;
  if (text.empty()) return std::vector<GradRoute>{{0, "world"}};
  if (text.find('@') == std::string_view::npos) {
    if (!KnownRoute(text)) {
      return InvalidArgument("gradient all-reduce route `" + std::string(text) +
                             "`: expected world, hierarchical or torus");
    }
    return std::vector<GradRoute>{{0, std::string(text)}};
  }
  for (const std::string_view item : Split(text, ',')) {
    const std::string where = "gradient all-reduce route #" +
                              std::to_string(out.size() + 1) + " `" +
                              std::string(item) + "`";
    const std::size_t at = item.find('@');
    if (at == std::string_view::npos) {
      return InvalidArgument(where + ": expected <route>@<bytes>");
    }
    GradRoute r;
    r.via = std::string(item.substr(0, at));
    if (!KnownRoute(r.via)) {
      return InvalidArgument(where + ": expected world, hierarchical or torus");
    }
    const std::optional<std::int64_t> min_bytes =
        ParseInteger<std::int64_t>(item.substr(at + 1));
    if (!min_bytes || *min_bytes < 0) {
      return InvalidArgument(where + ": the byte count is not a number >= 0");
    }
    r.min_bytes = *min_bytes;
    if (out.empty() && r.min_bytes != 0) {
      return InvalidArgument(where + ": the first route must start at 0");
    }
    if (!out.empty() && r.min_bytes <= out.back().min_bytes) {
      return InvalidArgument(where + ": byte counts must increase");
    }
    if (!out.empty() && r.via == out.back().via) {
      return InvalidArgument(where + ": the same route as the one before");
    }
    out.push_back(std::move(r));
  }
  return out;
}

const std::string& RouteFor(const std::vector<GradRoute>& routes,
                            std::int64_t bytes) {
  static const std::string kWorld = "world";
  const std::string* via = &kWorld;
  for (const GradRoute& r : routes) {
    if (r.min_bytes > bytes) break;
    via = &r.via;
  }
  return *via;
}

std::string DescribeGradRoutes(const std::vector<GradRoute>& routes) {
  const std::vector<GradRoute> merged = Merged(routes);
  if (merged.empty()) return "world";
  if (merged.size() == 1) return merged[0].via;
  std::string out;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += merged[i].via;
    if (i + 1 < merged.size()) {
      out += (i == 0 ? " below "
                     : " from " + ApproxBinaryBytes(merged[i].min_bytes) +
                           " below ") +
             ApproxBinaryBytes(merged[i + 1].min_bytes);
    } else {
      out += " from " + ApproxBinaryBytes(merged[i].min_bytes);
    }
  }
  return out;
}

}  // namespace dstrain
