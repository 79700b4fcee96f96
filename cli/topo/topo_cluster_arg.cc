#include "cli/topo/topo_cluster_arg.h"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "common/units.h"
#include "topology/io/cluster_file.h"
#include "topology/model/generators.h"

namespace dstrain::cli {
namespace {

using topology::Cluster;

constexpr std::string_view kKinds[] = {"fat-tree", "rail", "rail-optimized",
                                       "torus"};

struct Item {
  std::string_view key;  // empty for a bare value
  std::string_view value;
  std::size_t column = 0;  // 1-based, of the item's first character
  bool bare = false;       // no `key=`: the value starts at `column`
};

class SpecError {
 public:
  SpecError(const std::string& arg) : arg_(arg) {}
  Status At(std::size_t column, const std::string& what) const {
    return InvalidArgument("cluster spec `" + arg_ + "` at column " +
                           std::to_string(column) + ": " + what);
  }

 private:
  const std::string& arg_;
};

// "4x4x2" -> {4, 4, 2}.
std::optional<std::vector<int>> ToDims(std::string_view s) {
  std::vector<int> dims;
  while (true) {
    const std::size_t x = s.find('x');
    std::optional<int> d = ParseInteger<int>(s.substr(0, x));
    if (!d || *d < 1) return std::nullopt;
    dims.push_back(*d);
    if (x == std::string_view::npos) break;
    s.remove_prefix(x + 1);
  }
  return dims;
}

// Typed setters keyed by name; each returns an error text or "".
using Setter = std::function<std::string(std::string_view)>;

Setter IntInto(int* out, int min) {
  return [out, min](std::string_view v) -> std::string {
    std::optional<int> i = ParseInteger<int>(v);
    if (!i) return "expected an integer, got `" + std::string(v) + "`";
    if (*i < min)
      return "must be at least " + std::to_string(min) + ", got " +
             std::string(v);
    *out = *i;
    return "";
  };
}
Setter RatioInto(double* out) {
  return [out](std::string_view v) -> std::string {
    std::optional<double> d = ParseFiniteDouble(v);
    if (!d || !(*d >= 1))
      return "expected a number >= 1, got `" + std::string(v) + "`";
    *out = *d;
    return "";
  };
}
Setter BandwidthInto(double* out) {
  return [out](std::string_view v) -> std::string {
    std::optional<double> b = ParseBandwidth(v);
    if (!b)
      return "expected a bandwidth with a unit (`400Gb/s`), got `" +
             std::string(v) + "`";
    *out = *b;
    return "";
  };
}
Setter LatencyInto(double* out) {
  return [out](std::string_view v) -> std::string {
    std::optional<double> l = ParseLatency(v);
    if (!l)
      return "expected a latency with a unit (`0.5us`), got `" +
             std::string(v) + "`";
    *out = *l;
    return "";
  };
}
Setter BoolInto(bool* out) {
  return [out](std::string_view v) -> std::string {
    if (v == "true" || v == "1" || v == "yes") {
      *out = true;
    } else if (v == "false" || v == "0" || v == "no") {
      *out = false;
    } else {
      return "expected true or false, got `" + std::string(v) + "`";
    }
    return "";
  };
}
Setter StringInto(std::string* out) {
  return [out](std::string_view v) -> std::string {
    if (v.empty()) return "must not be empty";
    *out = std::string(v);
    return "";
  };
}

Status Apply(const SpecError& err, const std::vector<Item>& items,
             const std::map<std::string, Setter, std::less<>>& setters,
             const std::vector<std::string>& required) {
  std::map<std::string, bool, std::less<>> seen;
  for (const Item& item : items) {
    auto it = setters.find(item.key);
    if (it == setters.end()) {
      std::string keys;
      for (const auto& [k, s] : setters) keys += (keys.empty() ? "" : ", ") + k;
      return err.At(item.column, "unknown key `" + std::string(item.key) +
                                     "` (expected " + keys + ")");
    }
    if (seen[it->first])
      return err.At(item.column, "`" + it->first + "` is given twice");
    seen[it->first] = true;
    const std::string bad = it->second(item.value);
    if (!bad.empty())
      return err.At(item.bare ? item.column : item.column + item.key.size() + 1,
                    "`" + it->first + "`: " + bad);
  }
  for (const std::string& r : required) {
    if (!seen[r]) return err.At(1, "`" + r + "` is required");
  }
  return Status::Ok();
}

StatusOr<Cluster> FromSpec(const std::string& arg) {
  const SpecError err(arg);
  const std::size_t colon = arg.find(':');
  const std::string kind = arg.substr(0, colon);
  std::vector<Item> items;
  std::string_view rest = std::string_view(arg).substr(colon + 1);
  std::size_t column = colon + 2;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view part = rest.substr(0, comma);
    if (part.empty()) return err.At(column, "empty item");
    Item item;
    item.column = column;
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      item.value = part;
    } else {
      item.key = part.substr(0, eq);
      item.value = part.substr(eq + 1);
      if (item.key.empty()) return err.At(column, "`=` without a key");
    }
    items.push_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    column += comma + 1;
    if (rest.empty()) return err.At(column, "empty item after `,`");
  }

  StatusOr<Cluster> cluster = InvalidArgument("");
  if (kind == "torus") {
    topology::TorusOptions o;
    // A bare first item is the dims.
    if (!items.empty() && items[0].key.empty()) {
      items[0].key = "dims";
      items[0].bare = true;
    }
    for (const Item& item : items) {
      if (item.key.empty())
        return err.At(item.column, "expected key=value, got `" +
                                       std::string(item.value) + "`");
    }
    std::map<std::string, Setter, std::less<>> setters = {
        {"dims",
         [&o](std::string_view v) -> std::string {
           auto d = ToDims(v);
           if (!d || d->size() > 4)
             return "expected 1 to 4 sizes like `16x16x16`, got `" +
                    std::string(v) + "`";
           o.dims = *d;
           return "";
         }},
        {"wrap", BoolInto(&o.wraparound)},
        {"devices", IntInto(&o.devices_per_host, 1)},
        {"bw", BandwidthInto(&o.link_bandwidth)},
        {"latency", LatencyInto(&o.latency)},
        {"prefix", StringInto(&o.host_prefix)}};
    DSTRAIN_RETURN_IF_ERROR(Apply(err, items, setters, {"dims"}));
    cluster = topology::MakeTorus(o);
  } else {
    for (const Item& item : items) {
      if (item.key.empty())
        return err.At(item.column, "expected key=value, got `" +
                                       std::string(item.value) + "`");
    }
    if (kind == "fat-tree") {
      topology::FatTreeOptions o;
      std::map<std::string, Setter, std::less<>> setters = {
          {"hosts", IntInto(&o.hosts, 1)},
          {"k", IntInto(&o.k, 2)},
          {"levels", IntInto(&o.levels, 2)},
          {"oversub", RatioInto(&o.oversubscription)},
          {"oversubscription", RatioInto(&o.oversubscription)},
          {"devices", IntInto(&o.devices_per_host, 1)},
          {"nics", IntInto(&o.nics_per_host, 1)},
          {"bw", BandwidthInto(&o.nic_bandwidth)},
          {"switch_bw", BandwidthInto(&o.switch_bandwidth)},
          {"latency", LatencyInto(&o.latency)},
          {"prefix", StringInto(&o.host_prefix)}};
      DSTRAIN_RETURN_IF_ERROR(Apply(err, items, setters, {"hosts", "k"}));
      cluster = topology::MakeFatTree(o);
    } else {
      topology::RailOptimizedOptions o;
      std::map<std::string, Setter, std::less<>> setters = {
          {"hosts", IntInto(&o.hosts, 1)},
          {"k", IntInto(&o.k, 2)},
          {"levels", IntInto(&o.levels, 1)},
          {"rails", IntInto(&o.rails, 1)},
          {"oversub", RatioInto(&o.oversubscription)},
          {"oversubscription", RatioInto(&o.oversubscription)},
          {"devices", IntInto(&o.devices_per_host, 1)},
          {"bw", BandwidthInto(&o.nic_bandwidth)},
          {"switch_bw", BandwidthInto(&o.switch_bandwidth)},
          {"latency", LatencyInto(&o.latency)},
          {"prefix", StringInto(&o.host_prefix)}};
      DSTRAIN_RETURN_IF_ERROR(Apply(err, items, setters, {"hosts", "k"}));
      cluster = topology::MakeRailOptimized(o);
    }
  }
  if (!cluster.ok()) {
    return InvalidArgument("cluster spec `" + arg +
                           "`: " + cluster.status().message());
  }
  cluster->set_name(arg);
  return cluster;
}

}  // namespace

bool IsGeneratorSpec(const std::string& arg) {
  const std::size_t colon = arg.find(':');
  if (colon == std::string::npos) return false;
  const std::string_view kind = std::string_view(arg).substr(0, colon);
  for (std::string_view k : kKinds)
    if (k == kind) return true;
  return false;
}

StatusOr<Cluster> LoadClusterArg(const std::string& arg, int devices_per_host) {
  std::error_code ec;
  if (IsGeneratorSpec(arg) && !std::filesystem::exists(arg, ec))
    return FromSpec(arg);
  topology::SlurmTopologyOptions slurm;
  if (devices_per_host > 0) slurm.devices_per_host = devices_per_host;
  StatusOr<Cluster> cluster = topology::LoadClusterFile(arg, slurm);
  if (!cluster.ok() && cluster.status().code() == StatusCode::kNotFound &&
      arg.find(':') != std::string::npos) {
    return NotFound(cluster.status().message() +
                    " (generator specs start with fat-tree:, rail:, "
                    "rail-optimized: or torus:)");
  }
  return cluster;
}

}  // namespace dstrain::cli
