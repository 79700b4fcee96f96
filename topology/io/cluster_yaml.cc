#include "topology/io/cluster_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "common/units.h"
#include "common/yaml/describe.h"
#include "common/yaml/document.h"
#include "common/yaml/duplicate_keys.h"
#include "common/yaml/keys.h"
#include "common/yaml/scalars.h"
#include "common/yaml/suggest.h"
#include "common/yaml/text.h"
#include "topology/io/hostlist.h"
#include "topology/model/generators.h"

namespace dstrain::topology {
namespace {

using yaml::Entry;
using yaml::Quoted;

// A cluster description written out host by host stays well under a
// megabyte even for thousands of hosts; nothing in it nests deeply.
yaml::DocumentRules ClusterRules() {
  yaml::DocumentRules rules;
  rules.what = "a cluster description";
  rules.empty_hint =
      "a cluster description is a mapping with `hosts` (and `switches`, "
      "`links`) or a `generator` (see docs/topology.md)";
  rules.mapping_hint =
      "a mapping (`hosts`, `switches`, `links` or `generator`)";
  rules.limits.max_bytes = std::size_t{4} << 20;
  return rules;
}

// Bounds on what a description may build, besides generators.h's on
// hosts, switches and links: the CPUs of one NUMA node, and the details
// of all hosts together (NICs, devices and NUMA nodes; a CPU, a plain int,
// counts as 1/16), since every host a host list names copies its entry's
// details: 8192 fully described hosts, or a short file naming a million.
constexpr size_t kMaxCpus = 65536;
constexpr size_t kMaxHostDetails = size_t{1} << 17;
constexpr size_t kCpusPerDetail = 16;

class Loader {
 public:
  explicit Loader(std::string display) : file_(std::move(display)) {}

  StatusOr<Cluster> Run(std::string_view text) {
    DSTRAIN_ASSIGN_OR_RETURN(YAML::Node doc,
                             yaml::ReadMapping(text, file_, ClusterRules()));
    const YAML::Node& root = doc;
    DSTRAIN_RETURN_IF_ERROR(yaml::CheckNoDuplicateKeys(root, file_));
    DSTRAIN_RETURN_IF_ERROR(
        yaml::CheckKeys(root, file_, "",
                        {"name", "description", "fabric", "defaults",
                         "switches", "hosts", "links", "generator"}));
    std::string name = std::filesystem::path(file_.display()).stem().string();
    if (Entry e = yaml::Lookup(root, "name"); e.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string s, Str(e, "name"));
      name = s;
    }
    if (Entry e = yaml::Lookup(root, "description"); e.present()) {
      DSTRAIN_RETURN_IF_ERROR(Str(e, "description").status());
    }
    StatusOr<Cluster> c = yaml::Lookup(root, "generator").present()
                              ? Generated(root)
                              : Described(root);
    if (!c.ok()) return c;
    c->set_name(name);
    return c;
  }

 private:
  // ------------------------------------------------------------ plumbing
  // How messages name the value of `e`: `path` at its position.
  yaml::Subject At(const Entry& e, const std::string& path) const {
    return {path, yaml::Place{yaml::Place::Kind::kFile, file_.At(e.mark())}};
  }
  Status Fail(const Entry& e, const std::string& path,
              const std::string& rest) const {
    return yaml::Invalid(At(e, path), rest);
  }

  Status Map(const Entry& e, const std::string& path) const {
    if (!e.value.IsMap()) {
      return yaml::Expected(At(e, path), "a mapping", e.value);
    }
    return Status::Ok();
  }
  Status Seq(const Entry& e, const std::string& path) const {
    if (!e.value.IsSequence()) {
      return yaml::Expected(At(e, path), "a list", e.value);
    }
    return Status::Ok();
  }

  StatusOr<std::string> Str(const Entry& e, const std::string& path) const {
    return yaml::ReadString(e.value, At(e, path), "a string",
                            yaml::Empty::kRefused);
  }

  StatusOr<int64_t> Int(const Entry& e, const std::string& path, int64_t min,
                        int64_t max = 1 << 30) const {
    StatusOr<int64_t> v = yaml::ReadInt(e.value, At(e, path));
    if (!v.ok()) return v;
    if (*v < min || *v > max) {
      return Fail(e, path,
                  e.value.Scalar() + " is out of range: must be " +
                      (max == (1 << 30) ? ">= " + std::to_string(min)
                                        : "between " + std::to_string(min) +
                                              " and " + std::to_string(max)));
    }
    return v;
  }

  StatusOr<double> Double(const Entry& e, const std::string& path,
                          double min) const {
    StatusOr<double> v = yaml::ReadDouble(e.value, At(e, path));
    if (!v.ok()) return v;
    if (*v < min) {
      return Fail(
          e, path,
          e.value.Scalar() + " is out of range: must be >= " + Trim(min));
    }
    return v;
  }

  static std::string Trim(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
  }

  StatusOr<bool> Bool(const Entry& e, const std::string& path) const {
    return yaml::ReadBool(e.value, At(e, path));
  }

  StatusOr<double> Bandwidth(const Entry& e, const std::string& path) const {
    if (e.value.IsScalar()) {
      if (std::optional<double> v = ParseBandwidth(e.value.Scalar())) return *v;
    }
    return yaml::Expected(At(e, path),
                          "a bandwidth with a unit (`400 Gb/s`, `50 GB/s`)",
                          e.value);
  }

  StatusOr<double> Latency(const Entry& e, const std::string& path) const {
    if (e.value.IsScalar()) {
      if (std::optional<double> v = ParseLatency(e.value.Scalar())) return *v;
    }
    return yaml::Expected(At(e, path),
                          "a latency with a unit (`500 ns`, `1 us`)", e.value);
  }

  StatusOr<std::vector<int>> IntList(const Entry& e, const std::string& path,
                                     int min) const {
    DSTRAIN_RETURN_IF_ERROR(Seq(e, path));
    std::vector<int> out;
    for (size_t i = 0; i < e.value.size(); ++i) {
      Entry item{e.key, e.value[i], true};
      DSTRAIN_ASSIGN_OR_RETURN(
          int64_t v, Int(item, path + "[" + std::to_string(i) + "]", min));
      out.push_back(static_cast<int>(v));
    }
    return out;
  }

  // A host-list expression naming one or more vertices. `defines`: the
  // names become new vertices of `c` (hosts, switches), else they refer to
  // existing ones (link ends). The names are counted before they are built,
  // so an expression of millions of names is refused without the memory.
  StatusOr<std::vector<std::string>> Names(const Entry& e,
                                           const std::string& path,
                                           const Cluster& c,
                                           bool defines) const {
    DSTRAIN_ASSIGN_OR_RETURN(std::string s, Str(e, path));
    for (char ch : s) {
      const auto u = static_cast<unsigned char>(ch);
      if (u < 0x20 || u == 0x7f) {
        return yaml::Expected(At(e, path), "a name without control characters",
                              e.value);
      }
    }
    auto bad = [&](const HostListError& err) {
      YAML::Mark m = e.value.Mark();
      // Plain one-line scalars: point at the character.
      if (!yaml::IsQuoted(e.value)) m.column += static_cast<int>(err.offset);
      return InvalidArgument("bad host list " + Quoted(s) + " in `" + path +
                             "` at " + file_.At(m) + ": " + err.what);
    };
    HostListError err;
    uint64_t count = 0;
    if (!CountHostList(s, &count, &err).ok()) return bad(err);
    if (count == 0)
      return Fail(e, path, Quoted(s) + " names no host or switch");
    const uint64_t room =
        defines
            ? uint64_t{kMaxGeneratedVertices} -
                  std::min<uint64_t>(c.num_vertices(), kMaxGeneratedVertices)
            : uint64_t{kMaxGeneratedVertices};
    if (count > room) {
      return Fail(e, path,
                  Quoted(s) + (defines ? " makes " : " names ") +
                      std::to_string(count) +
                      (defines ? " more hosts or switches" : " vertices") +
                      "; a cluster description holds at most " +
                      std::to_string(kMaxGeneratedVertices));
    }
    std::vector<std::string> out;
    if (!ExpandHostList(s, &out, &err).ok()) return bad(err);
    return out;
  }

  // `cpus: "0-3,8"` or `cpus: [0, 1, 2]`.
  StatusOr<std::vector<int>> CpuList(const Entry& e,
                                     const std::string& path) const {
    if (e.value.IsSequence()) return IntList(e, path, 0);
    DSTRAIN_ASSIGN_OR_RETURN(std::string s, Str(e, path));
    std::vector<int> out;
    std::stringstream in(s);
    std::string part;
    while (std::getline(in, part, ',')) {
      int lo = 0, hi = 0;
      const size_t dash = part.find('-');
      auto parse = [](const std::string& t, int* v) {
        const std::optional<std::int64_t> n = yaml::ParseInt64(t);
        if (!n || *n < 0 || *n > std::numeric_limits<int>::max()) return false;
        *v = static_cast<int>(*n);
        return true;
      };
      const bool ok = dash == std::string::npos
                          ? parse(part, &lo) && (hi = lo, true)
                          : parse(part.substr(0, dash), &lo) &&
                                parse(part.substr(dash + 1), &hi);
      if (!ok || hi < lo || hi - lo > 65536) {
        return Fail(
            e, path,
            "expected CPU numbers like `0-55,112-167`, got " + Quoted(s));
      }
      if (out.size() + (hi - lo) >= kMaxCpus) {
        return Fail(e, path,
                    "lists more than " + std::to_string(kMaxCpus) + " CPUs");
      }
      for (int c = lo; c <= hi; ++c) out.push_back(c);
    }
    return out;
  }

  // ------------------------------------------------------------ generator
  StatusOr<Cluster> Generated(const YAML::Node& root) {
    for (const char* other :
         {"fabric", "defaults", "switches", "hosts", "links"}) {
      if (Entry e = yaml::Lookup(root, other); e.present()) {
        return InvalidArgument(
            "`" + std::string(other) + "` at " + file_.At(e.key.Mark()) +
            " cannot be combined with `generator` (a generated cluster is "
            "described by its generator alone)");
      }
    }
    const Entry g = yaml::Lookup(root, "generator");
    DSTRAIN_RETURN_IF_ERROR(Map(g, "generator"));
    const std::vector<std::string> common = {"kind", "devices_per_host",
                                             "latency", "host_prefix"};
    const std::map<std::string, std::vector<std::string>> per_kind = {
        {"fat-tree",
         {"hosts", "k", "levels", "oversubscription", "nics_per_host",
          "nic_bandwidth", "switch_bandwidth"}},
        {"rail-optimized",
         {"hosts", "k", "levels", "oversubscription", "rails", "nic_bandwidth",
          "switch_bandwidth"}},
        {"torus", {"dims", "wraparound", "link_bandwidth"}},
    };
    std::vector<std::string> every = common;
    for (const auto& [kind, keys] : per_kind)
      for (const std::string& k : keys)
        if (std::find(every.begin(), every.end(), k) == every.end())
          every.push_back(k);
    DSTRAIN_RETURN_IF_ERROR(
        yaml::CheckKeys(g.value, file_, "generator", every));

    const Entry kind_e = yaml::Lookup(g.value, "kind");
    if (!kind_e.present()) {
      return InvalidArgument("missing required key `generator.kind` at " +
                             file_.At(g.key.Mark()) +
                             " (fat-tree, rail-optimized or torus)");
    }
    DSTRAIN_ASSIGN_OR_RETURN(std::string kind, Str(kind_e, "generator.kind"));
    if (!per_kind.count(kind))
      return BadEnum(kind_e, "generator.kind", kind, false);
    std::vector<std::string> allowed = common;
    for (const std::string& k : per_kind.at(kind)) allowed.push_back(k);
    for (auto it = g.value.begin(); it != g.value.end(); ++it) {
      const std::string& k = it->first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end())
        continue;
      std::string owners;
      for (const auto& [other, keys] : per_kind)
        if (std::find(keys.begin(), keys.end(), k) != keys.end())
          owners += (owners.empty() ? "" : " and ") + other;
      return InvalidArgument("`generator." + k + "` at " +
                             file_.At(it->first.Mark()) + " applies to " +
                             owners + ", not " + kind);
    }

    // Reads an optional field into `out`.
    auto opt_int = [&](const char* key, int64_t min, int* out) -> Status {
      Entry e = yaml::Lookup(g.value, key);
      if (!e.present()) return Status::Ok();
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v,
                               Int(e, std::string("generator.") + key, min));
      *out = static_cast<int>(v);
      return Status::Ok();
    };
    auto opt_bw = [&](const char* key, double* out) -> Status {
      Entry e = yaml::Lookup(g.value, key);
      if (!e.present()) return Status::Ok();
      DSTRAIN_ASSIGN_OR_RETURN(double v,
                               Bandwidth(e, std::string("generator.") + key));
      *out = v;
      return Status::Ok();
    };
    auto opt_double = [&](const char* key, double min, double* out) -> Status {
      Entry e = yaml::Lookup(g.value, key);
      if (!e.present()) return Status::Ok();
      DSTRAIN_ASSIGN_OR_RETURN(double v,
                               Double(e, std::string("generator.") + key, min));
      *out = v;
      return Status::Ok();
    };
    auto required = [&](const char* key) -> Status {
      if (yaml::Lookup(g.value, key).present()) return Status::Ok();
      return InvalidArgument(
          "missing required key `generator." + std::string(key) + "` at " +
          file_.At(g.key.Mark()) + " (a " + kind + " generator needs it)");
    };
    int devices = 8;
    double latency = kDefaultLinkLatency;
    std::string prefix = "node";
    DSTRAIN_RETURN_IF_ERROR(opt_int("devices_per_host", 0, &devices));
    if (Entry e = yaml::Lookup(g.value, "latency"); e.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(double v, Latency(e, "generator.latency"));
      latency = v;
    }
    if (Entry e = yaml::Lookup(g.value, "host_prefix"); e.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string v, Str(e, "generator.host_prefix"));
      prefix = v;
    }

    StatusOr<Cluster> made = InvalidArgument("unreachable");
    if (kind == "fat-tree") {
      FatTreeOptions o;
      DSTRAIN_RETURN_IF_ERROR(required("hosts"));
      DSTRAIN_RETURN_IF_ERROR(required("k"));
      DSTRAIN_RETURN_IF_ERROR(opt_int("hosts", 1, &o.hosts));
      DSTRAIN_RETURN_IF_ERROR(opt_int("k", 2, &o.k));
      DSTRAIN_RETURN_IF_ERROR(opt_int("levels", 2, &o.levels));
      DSTRAIN_RETURN_IF_ERROR(
          opt_double("oversubscription", 1, &o.oversubscription));
      DSTRAIN_RETURN_IF_ERROR(opt_int("nics_per_host", 1, &o.nics_per_host));
      DSTRAIN_RETURN_IF_ERROR(opt_bw("nic_bandwidth", &o.nic_bandwidth));
      DSTRAIN_RETURN_IF_ERROR(opt_bw("switch_bandwidth", &o.switch_bandwidth));
      o.devices_per_host = devices;
      o.latency = latency;
      o.host_prefix = prefix;
      made = MakeFatTree(o);
    } else if (kind == "rail-optimized") {
      RailOptimizedOptions o;
      DSTRAIN_RETURN_IF_ERROR(required("hosts"));
      DSTRAIN_RETURN_IF_ERROR(required("k"));
      DSTRAIN_RETURN_IF_ERROR(opt_int("hosts", 1, &o.hosts));
      DSTRAIN_RETURN_IF_ERROR(opt_int("k", 1, &o.k));
      DSTRAIN_RETURN_IF_ERROR(opt_int("levels", 1, &o.levels));
      DSTRAIN_RETURN_IF_ERROR(opt_int("rails", 1, &o.rails));
      DSTRAIN_RETURN_IF_ERROR(
          opt_double("oversubscription", 1, &o.oversubscription));
      DSTRAIN_RETURN_IF_ERROR(opt_bw("nic_bandwidth", &o.nic_bandwidth));
      DSTRAIN_RETURN_IF_ERROR(opt_bw("switch_bandwidth", &o.switch_bandwidth));
      o.devices_per_host = devices;
      o.latency = latency;
      o.host_prefix = prefix;
      made = MakeRailOptimized(o);
    } else {
      TorusOptions o;
      DSTRAIN_RETURN_IF_ERROR(required("dims"));
      DSTRAIN_ASSIGN_OR_RETURN(
          std::vector<int> dims,
          IntList(yaml::Lookup(g.value, "dims"), "generator.dims", 1));
      o.dims = dims;
      if (Entry e = yaml::Lookup(g.value, "wraparound"); e.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(bool v, Bool(e, "generator.wraparound"));
        o.wraparound = v;
      }
      DSTRAIN_RETURN_IF_ERROR(opt_bw("link_bandwidth", &o.link_bandwidth));
      o.devices_per_host = devices;
      o.latency = latency;
      o.host_prefix = prefix;
      made = MakeTorus(o);
    }
    if (!made.ok()) {
      return InvalidArgument("`generator` at " + file_.At(g.key.Mark()) + ": " +
                             yaml::OneLine(made.status().message()));
    }
    return made;
  }

  Status BadEnum(const Entry& e, const std::string& path,
                 const std::string& got, bool allow_unknown) const {
    std::vector<std::string> kinds = {"fat-tree", "rail-optimized", "torus"};
    if (allow_unknown) kinds.push_back("unknown");
    std::vector<yaml::Candidate> pool;
    for (const std::string& k : kinds) pool.push_back({k, k, 0});
    pool.push_back({"fattree", "fat-tree", 1});
    pool.push_back({"rail", "rail-optimized", 1});
    pool.push_back({"mesh", "torus", 1});
    return yaml::ExpectedOneOf(At(e, path), "one of " + yaml::Join(kinds, ", "),
                               Quoted(got), got, pool);
  }

  // ------------------------------------------------------------ explicit
  struct Defaults {
    int devices = 1;
    double bandwidth = kDefaultLinkBandwidth;
    double latency = kDefaultLinkLatency;
  };

  StatusOr<Cluster> Described(const YAML::Node& root) {
    Cluster c;
    FabricParams f;
    if (Entry e = yaml::Lookup(root, "fabric"); e.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(FabricParams parsed, Fabric(e));
      f = parsed;
    }
    c.set_fabric(f);
    Defaults d;
    if (Entry e = yaml::Lookup(root, "defaults"); e.present())
      DSTRAIN_RETURN_IF_ERROR(ReadDefaults(e, &d));
    const Entry switches = yaml::Lookup(root, "switches");
    const Entry hosts = yaml::Lookup(root, "hosts");
    const Entry links = yaml::Lookup(root, "links");
    if (switches.present()) DSTRAIN_RETURN_IF_ERROR(ReadSwitches(switches, &c));
    if (!hosts.present()) {
      return InvalidArgument("missing required key `hosts` in " +
                             file_.display() +
                             " (or use `generator:`; see docs/topology.md)");
    }
    DSTRAIN_RETURN_IF_ERROR(ReadHosts(hosts, d, &c));
    if (links.present()) DSTRAIN_RETURN_IF_ERROR(ReadLinks(links, d, &c));

    if (f.kind == FabricKind::kTorus) {
      bool host_links = false;
      for (const Link& l : c.links())
        host_links |= c.IsHost(l.a) && c.IsHost(l.b);
      if (!host_links) {
        Status s = LinkTorusNeighbours(&c, d.bandwidth, d.latency);
        if (!s.ok())
          return InvalidArgument(file_.display() + ": " +
                                 yaml::OneLine(s.message()));
      }
    }
    Status v = c.Validate();
    if (!v.ok())
      return InvalidArgument(file_.display() + ": " +
                             yaml::OneLine(v.message()));
    const bool flat = c.num_switches() == 0 && c.num_links() == 0;
    if (!flat) {
      Status conn = c.CheckConnected();
      if (!conn.ok())
        return InvalidArgument(file_.display() + ": " +
                               yaml::OneLine(conn.message()));
    }
    return c;
  }

  StatusOr<FabricParams> Fabric(const Entry& e) {
    DSTRAIN_RETURN_IF_ERROR(Map(e, "fabric"));
    DSTRAIN_RETURN_IF_ERROR(
        yaml::CheckKeys(e.value, file_, "fabric",
                        {"kind", "k", "levels", "oversubscription", "rails",
                         "dims", "wraparound"}));
    FabricParams f;
    if (Entry k = yaml::Lookup(e.value, "kind"); k.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string s, Str(k, "fabric.kind"));
      if (s == "fat-tree")
        f.kind = FabricKind::kFatTree;
      else if (s == "rail-optimized")
        f.kind = FabricKind::kRailOptimized;
      else if (s == "torus")
        f.kind = FabricKind::kTorus;
      else if (s == "unknown")
        f.kind = FabricKind::kUnknown;
      else
        return BadEnum(k, "fabric.kind", s, true);
    }
    auto opt_int = [&](const char* key, int64_t min, int* out) -> Status {
      Entry x = yaml::Lookup(e.value, key);
      if (!x.present()) return Status::Ok();
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v,
                               Int(x, std::string("fabric.") + key, min));
      *out = static_cast<int>(v);
      return Status::Ok();
    };
    DSTRAIN_RETURN_IF_ERROR(opt_int("k", 1, &f.k));
    DSTRAIN_RETURN_IF_ERROR(opt_int("levels", 1, &f.levels));
    DSTRAIN_RETURN_IF_ERROR(opt_int("rails", 1, &f.rails));
    if (Entry x = yaml::Lookup(e.value, "oversubscription"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(double v,
                               Double(x, "fabric.oversubscription", 1));
      f.oversubscription = v;
    }
    const Entry dims = yaml::Lookup(e.value, "dims");
    const Entry wrap = yaml::Lookup(e.value, "wraparound");
    if (f.kind != FabricKind::kTorus) {
      for (const Entry* x : {&dims, &wrap}) {
        if (x->present()) {
          return InvalidArgument("`fabric." + x->key.Scalar() + "` at " +
                                 file_.At(x->key.Mark()) +
                                 " applies to kind torus only");
        }
      }
    } else {
      if (!dims.present()) {
        return InvalidArgument("missing required key `fabric.dims` at " +
                               file_.At(e.key.Mark()) +
                               " (a torus needs its dimensions, e.g. [4, 4])");
      }
      DSTRAIN_ASSIGN_OR_RETURN(std::vector<int> d,
                               IntList(dims, "fabric.dims", 1));
      if (d.empty() || d.size() > 4)
        return Fail(dims, "fabric.dims", "expected 1 to 4 sizes");
      f.torus_dims = d;
      bool w = true;
      if (wrap.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(bool v, Bool(wrap, "fabric.wraparound"));
        w = v;
      }
      f.torus_wrap.assign(f.torus_dims.size(), w);
    }
    return f;
  }

  Status ReadDefaults(const Entry& e, Defaults* d) {
    DSTRAIN_RETURN_IF_ERROR(Map(e, "defaults"));
    DSTRAIN_RETURN_IF_ERROR(yaml::CheckKeys(
        e.value, file_, "defaults", {"devices", "bandwidth", "latency"}));
    if (Entry x = yaml::Lookup(e.value, "devices"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, "defaults.devices", 0));
      d->devices = static_cast<int>(v);
    }
    if (Entry x = yaml::Lookup(e.value, "bandwidth"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(double v, Bandwidth(x, "defaults.bandwidth"));
      d->bandwidth = v;
    }
    if (Entry x = yaml::Lookup(e.value, "latency"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(double v, Latency(x, "defaults.latency"));
      d->latency = v;
    }
    return Status::Ok();
  }

  // Refuses `count` more vertices (each with `links_each` links and
  // `details` as kMaxHostDetails counts them) once the cluster would
  // outgrow what a description may hold: a short host list can name a
  // million hosts, and each would copy its details.
  Status Grow(const Entry& e, const std::string& path, const Cluster& c,
              size_t count, size_t links_each, size_t details) {
    const std::string names = Quoted(e.value.Scalar());
    if (c.num_vertices() + count > uint64_t{kMaxGeneratedVertices}) {
      return Fail(e, path,
                  names + " makes " + std::to_string(count) +
                      " more hosts or switches; a cluster description holds "
                      "at most " +
                      std::to_string(kMaxGeneratedVertices));
    }
    if (c.num_links() + count * links_each > uint64_t{kMaxGeneratedLinks}) {
      return Fail(e, path,
                  names + " makes " + std::to_string(count * links_each) +
                      " more links; a cluster description holds at most " +
                      std::to_string(kMaxGeneratedLinks));
    }
    details_ += count * details;
    if (details_ > kMaxHostDetails) {
      return Fail(e, path,
                  names + " takes the hosts past " +
                      std::to_string(kMaxHostDetails) +
                      " NICs, devices and NUMA nodes in all (" +
                      std::to_string(kCpusPerDetail) + " CPUs count as one)");
    }
    return Status::Ok();
  }

  // Records where each vertex was defined, for duplicate-name messages.
  Status Define(const Entry& name_entry, const std::string& path,
                const std::string& name) {
    auto [it, fresh] = defined_at_.emplace(name, file_.At(name_entry.mark()));
    if (!fresh) {
      return Fail(name_entry, path,
                  Quoted(name) + " is already defined at " + it->second);
    }
    return Status::Ok();
  }

  Status ReadSwitches(const Entry& e, Cluster* c) {
    DSTRAIN_RETURN_IF_ERROR(Seq(e, "switches"));
    for (size_t i = 0; i < e.value.size(); ++i) {
      const std::string path = "switches[" + std::to_string(i) + "]";
      const Entry item{e.key, e.value[i], true};
      DSTRAIN_RETURN_IF_ERROR(Map(item, path));
      DSTRAIN_RETURN_IF_ERROR(yaml::CheckKeys(item.value, file_, "switches[]",
                                              {"name", "level", "rail"}));
      const Entry name = yaml::Lookup(item.value, "name");
      if (!name.present())
        return Fail(item, path, "missing required key `name`");
      DSTRAIN_ASSIGN_OR_RETURN(std::vector<std::string> names,
                               Names(name, path + ".name", *c, true));
      SwitchInfo info;
      if (Entry x = yaml::Lookup(item.value, "level"); x.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".level", 0, 16));
        info.level = static_cast<int>(v);
      }
      if (Entry x = yaml::Lookup(item.value, "rail"); x.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".rail", 0, 1024));
        info.rail = static_cast<int>(v);
      }
      DSTRAIN_RETURN_IF_ERROR(
          Grow(name, path + ".name", *c, names.size(), 0, 0));
      for (const std::string& n : names) {
        DSTRAIN_RETURN_IF_ERROR(Define(name, path + ".name", n));
        StatusOr<VertexId> v = c->AddSwitch(n, info);
        if (!v.ok())
          return Fail(name, path + ".name",
                      yaml::OneLine(v.status().message()));
      }
    }
    return Status::Ok();
  }

  // The switch a `leaf:` names.
  StatusOr<VertexId> SwitchRef(const Entry& e, const std::string& path,
                               const Cluster& c) const {
    DSTRAIN_ASSIGN_OR_RETURN(std::string s, Str(e, path));
    const VertexId v = c.Find(s);
    if (v == kNoVertex)
      return Fail(e, path, "no switch is called " + Quoted(s));
    if (!c.IsSwitch(v))
      return Fail(e, path, Quoted(s) + " is a host, not a switch");
    return v;
  }

  StatusOr<NicInfo> ReadNic(const Entry& item, const std::string& path,
                            Entry* leaf) {
    DSTRAIN_RETURN_IF_ERROR(Map(item, path));
    DSTRAIN_RETURN_IF_ERROR(yaml::CheckKeys(
        item.value, file_, "nics[]",
        {"name", "port", "rail", "bandwidth", "numa", "pci", "guid", "leaf"},
        {{"numa_node", "numa", 0}, {"pci_bus_id", "pci", 0}}));
    NicInfo nic;
    const Entry name = yaml::Lookup(item.value, "name");
    if (!name.present()) return Fail(item, path, "missing required key `name`");
    DSTRAIN_ASSIGN_OR_RETURN(std::string n, Str(name, path + ".name"));
    nic.name = n;
    if (Entry x = yaml::Lookup(item.value, "port"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".port", 1, 255));
      nic.port = static_cast<int>(v);
    }
    if (Entry x = yaml::Lookup(item.value, "rail"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".rail", 0, 1024));
      nic.rail = static_cast<int>(v);
    }
    if (Entry x = yaml::Lookup(item.value, "bandwidth"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(double v, Bandwidth(x, path + ".bandwidth"));
      nic.bandwidth = v;
    }
    if (Entry x = yaml::Lookup(item.value, "numa"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".numa", 0, 4096));
      nic.numa_node = static_cast<int>(v);
    }
    if (Entry x = yaml::Lookup(item.value, "pci"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string v, Str(x, path + ".pci"));
      nic.pci_bus_id = v;
    }
    if (Entry x = yaml::Lookup(item.value, "guid"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string v, Str(x, path + ".guid"));
      nic.guid = v;
    }
    *leaf = yaml::Lookup(item.value, "leaf");
    return nic;
  }

  StatusOr<DeviceInfo> ReadDevice(const Entry& item, const std::string& path,
                                  int index) {
    DSTRAIN_RETURN_IF_ERROR(Map(item, path));
    DSTRAIN_RETURN_IF_ERROR(
        yaml::CheckKeys(item.value, file_, "device_info[]",
                        {"name", "pci", "numa", "memory_gb", "sm"},
                        {{"numa_node", "numa", 0}, {"pci_bus_id", "pci", 0}}));
    DeviceInfo d;
    d.index = index;
    if (Entry x = yaml::Lookup(item.value, "name"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string v, Str(x, path + ".name"));
      d.name = v;
    }
    if (Entry x = yaml::Lookup(item.value, "pci"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(std::string v, Str(x, path + ".pci"));
      d.pci_bus_id = v;
    }
    if (Entry x = yaml::Lookup(item.value, "numa"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".numa", 0, 4096));
      d.numa_node = static_cast<int>(v);
    }
    if (Entry x = yaml::Lookup(item.value, "memory_gb"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(double v, Double(x, path + ".memory_gb", 0));
      d.memory_bytes = static_cast<int64_t>(v * 1e9);
    }
    if (Entry x = yaml::Lookup(item.value, "sm"); x.present()) {
      DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".sm", 10, 1000));
      d.sm = static_cast<int>(v);
    }
    return d;
  }

  Status ReadHosts(const Entry& e, const Defaults& d, Cluster* c) {
    DSTRAIN_RETURN_IF_ERROR(Seq(e, "hosts"));
    if (e.value.size() == 0)
      return Fail(e, "hosts", "expected at least one host");
    for (size_t i = 0; i < e.value.size(); ++i) {
      const std::string path = "hosts[" + std::to_string(i) + "]";
      const Entry item{e.key, e.value[i], true};
      DSTRAIN_RETURN_IF_ERROR(Map(item, path));
      DSTRAIN_RETURN_IF_ERROR(
          yaml::CheckKeys(item.value, file_, "hosts[]",
                          {"name", "devices", "leaf", "bandwidth", "latency",
                           "coords", "nics", "device_info", "numa"},
                          {{"gpus", "devices", 1},
                           {"switch", "leaf", 1},
                           {"torus_coords", "coords", 0}}));
      const Entry name = yaml::Lookup(item.value, "name");
      if (!name.present())
        return Fail(item, path, "missing required key `name`");
      DSTRAIN_ASSIGN_OR_RETURN(std::vector<std::string> names,
                               Names(name, path + ".name", *c, true));

      HostInfo info;
      info.devices = d.devices;
      const Entry devices = yaml::Lookup(item.value, "devices");
      if (devices.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(int64_t v,
                                 Int(devices, path + ".devices", 0, 1 << 16));
        info.devices = static_cast<int>(v);
      }
      if (Entry x = yaml::Lookup(item.value, "device_info"); x.present()) {
        DSTRAIN_RETURN_IF_ERROR(Seq(x, path + ".device_info"));
        for (size_t k = 0; k < x.value.size(); ++k) {
          DSTRAIN_ASSIGN_OR_RETURN(
              DeviceInfo dev,
              ReadDevice(Entry{x.key, x.value[k], true},
                         path + ".device_info[" + std::to_string(k) + "]",
                         static_cast<int>(k)));
          info.device_info.push_back(dev);
        }
        if (!devices.present()) {
          info.devices = static_cast<int>(info.device_info.size());
        } else if (static_cast<int>(info.device_info.size()) != info.devices) {
          return Fail(x, path + ".device_info",
                      "describes " + std::to_string(info.device_info.size()) +
                          " devices but `devices` is " +
                          std::to_string(info.devices));
        }
      }
      std::vector<Entry> nic_leaves;
      if (Entry x = yaml::Lookup(item.value, "nics"); x.present()) {
        DSTRAIN_RETURN_IF_ERROR(Seq(x, path + ".nics"));
        for (size_t k = 0; k < x.value.size(); ++k) {
          const std::string npath = path + ".nics[" + std::to_string(k) + "]";
          Entry leaf;
          DSTRAIN_ASSIGN_OR_RETURN(
              NicInfo nic,
              ReadNic(Entry{x.key, x.value[k], true}, npath, &leaf));
          for (const NicInfo& other : info.nics) {
            if (other.name == nic.name) {
              return Fail(Entry{x.key, x.value[k], true}, npath,
                          "NIC " + Quoted(nic.name) + " is listed twice");
            }
          }
          info.nics.push_back(nic);
          nic_leaves.push_back(leaf);
        }
      }
      if (Entry x = yaml::Lookup(item.value, "numa"); x.present()) {
        DSTRAIN_RETURN_IF_ERROR(Seq(x, path + ".numa"));
        for (size_t k = 0; k < x.value.size(); ++k) {
          const std::string npath = path + ".numa[" + std::to_string(k) + "]";
          const Entry ne{x.key, x.value[k], true};
          DSTRAIN_RETURN_IF_ERROR(Map(ne, npath));
          DSTRAIN_RETURN_IF_ERROR(
              yaml::CheckKeys(ne.value, file_, "numa[]", {"id", "cpus"}));
          NumaInfo numa;
          const Entry id = yaml::Lookup(ne.value, "id");
          if (!id.present())
            return Fail(ne, npath, "missing required key `id`");
          DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(id, npath + ".id", 0, 4096));
          numa.id = static_cast<int>(v);
          if (Entry cpus = yaml::Lookup(ne.value, "cpus"); cpus.present()) {
            DSTRAIN_ASSIGN_OR_RETURN(std::vector<int> list,
                                     CpuList(cpus, npath + ".cpus"));
            numa.cpus = list;
          }
          info.numa_nodes.push_back(numa);
        }
      }
      if (Entry x = yaml::Lookup(item.value, "coords"); x.present()) {
        if (names.size() != 1) {
          return Fail(x, path + ".coords",
                      "needs a single host name; " +
                          Quoted(name.value.Scalar()) + " names " +
                          std::to_string(names.size()) + " hosts");
        }
        DSTRAIN_ASSIGN_OR_RETURN(std::vector<int> v,
                                 IntList(x, path + ".coords", 0));
        info.torus_coords = v;
      }
      double bandwidth = 0;
      if (Entry x = yaml::Lookup(item.value, "bandwidth"); x.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(double v, Bandwidth(x, path + ".bandwidth"));
        bandwidth = v;
      }
      double latency = d.latency;
      if (Entry x = yaml::Lookup(item.value, "latency"); x.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(double v, Latency(x, path + ".latency"));
        latency = v;
      }
      VertexId leaf = kNoVertex;
      const Entry leaf_e = yaml::Lookup(item.value, "leaf");
      if (leaf_e.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(VertexId v,
                                 SwitchRef(leaf_e, path + ".leaf", *c));
        leaf = v;
      }
      std::vector<VertexId> nic_leaf(info.nics.size(), kNoVertex);
      for (size_t k = 0; k < info.nics.size(); ++k) {
        if (!nic_leaves[k].present()) continue;
        DSTRAIN_ASSIGN_OR_RETURN(
            VertexId v,
            SwitchRef(nic_leaves[k],
                      path + ".nics[" + std::to_string(k) + "].leaf", *c));
        nic_leaf[k] = v;
      }
      // The host link carries the NICs that have no leaf of their own.
      if (bandwidth == 0) {
        for (size_t k = 0; k < info.nics.size(); ++k)
          if (nic_leaf[k] == kNoVertex) bandwidth += info.nics[k].bandwidth;
        if (bandwidth == 0) bandwidth = d.bandwidth;
      }
      size_t details =
          info.nics.size() + info.device_info.size() + info.numa_nodes.size();
      for (const NumaInfo& numa : info.numa_nodes) {
        details += numa.cpus.size() / kCpusPerDetail;
      }
      size_t links_each = leaf != kNoVertex ? 1 : 0;
      for (VertexId l : nic_leaf) links_each += l != kNoVertex ? 1 : 0;
      DSTRAIN_RETURN_IF_ERROR(
          Grow(name, path + ".name", *c, names.size(), links_each, details));
      for (const std::string& n : names) {
        DSTRAIN_RETURN_IF_ERROR(Define(name, path + ".name", n));
        StatusOr<VertexId> h = c->AddHost(n, info);
        if (!h.ok())
          return Fail(name, path + ".name",
                      yaml::OneLine(h.status().message()));
        if (leaf != kNoVertex) {
          StatusOr<LinkId> l = c->AddLink(*h, leaf, bandwidth, latency);
          if (!l.ok())
            return Fail(leaf_e, path + ".leaf",
                        yaml::OneLine(l.status().message()));
        }
        for (size_t k = 0; k < info.nics.size(); ++k) {
          if (nic_leaf[k] == kNoVertex) continue;
          const double bw =
              info.nics[k].bandwidth > 0 ? info.nics[k].bandwidth : d.bandwidth;
          StatusOr<LinkId> l =
              c->AddLink(*h, nic_leaf[k], bw, latency, static_cast<int>(k), -1);
          if (!l.ok()) {
            return Fail(nic_leaves[k],
                        path + ".nics[" + std::to_string(k) + "].leaf",
                        yaml::OneLine(l.status().message()));
          }
        }
      }
    }
    return Status::Ok();
  }

  Status ReadLinks(const Entry& e, const Defaults& d, Cluster* c) {
    DSTRAIN_RETURN_IF_ERROR(Seq(e, "links"));
    for (size_t i = 0; i < e.value.size(); ++i) {
      const std::string path = "links[" + std::to_string(i) + "]";
      const Entry item{e.key, e.value[i], true};
      DSTRAIN_RETURN_IF_ERROR(Map(item, path));
      DSTRAIN_RETURN_IF_ERROR(
          yaml::CheckKeys(item.value, file_, "links[]",
                          {"a", "b", "bandwidth", "latency", "count"},
                          {{"from", "a", 1}, {"to", "b", 1}}));
      std::vector<VertexId> ends[2];
      Entry ends_e[2];
      const char* keys[2] = {"a", "b"};
      for (int s = 0; s < 2; ++s) {
        ends_e[s] = yaml::Lookup(item.value, keys[s]);
        if (!ends_e[s].present())
          return Fail(item, path,
                      std::string("missing required key `") + keys[s] + "`");
        const std::string epath = path + "." + keys[s];
        DSTRAIN_ASSIGN_OR_RETURN(std::vector<std::string> names,
                                 Names(ends_e[s], epath, *c, false));
        for (const std::string& n : names) {
          const VertexId v = c->Find(n);
          if (v == kNoVertex)
            return Fail(ends_e[s], epath,
                        "no switch or host is called " + Quoted(n));
          ends[s].push_back(v);
        }
      }
      double bandwidth = d.bandwidth, latency = d.latency;
      int count = 1;
      if (Entry x = yaml::Lookup(item.value, "bandwidth"); x.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(double v, Bandwidth(x, path + ".bandwidth"));
        bandwidth = v;
      }
      if (Entry x = yaml::Lookup(item.value, "latency"); x.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(double v, Latency(x, path + ".latency"));
        latency = v;
      }
      if (Entry x = yaml::Lookup(item.value, "count"); x.present()) {
        DSTRAIN_ASSIGN_OR_RETURN(int64_t v, Int(x, path + ".count", 1, 1024));
        count = static_cast<int>(v);
      }
      // Counted in 64 bits: two host lists of a million names each.
      const uint64_t made = uint64_t{ends[0].size()} * ends[1].size() *
                            static_cast<uint64_t>(count);
      if (c->num_links() + made > uint64_t{kMaxGeneratedLinks}) {
        return Fail(item, path,
                    "makes " + std::to_string(made) +
                        " links; a cluster description holds at most " +
                        std::to_string(kMaxGeneratedLinks));
      }
      for (VertexId a : ends[0]) {
        for (VertexId b : ends[1]) {
          for (int k = 0; k < count; ++k) {
            StatusOr<LinkId> l = c->AddLink(a, b, bandwidth, latency);
            if (!l.ok())
              return Fail(item, path, yaml::OneLine(l.status().message()));
          }
        }
      }
    }
    return Status::Ok();
  }

  yaml::Locator file_;  // the file as the caller named it, for messages
  std::map<std::string, std::string>
      defined_at_;      // vertex name -> file:line:col
  size_t details_ = 0;  // of all hosts, as kMaxHostDetails counts them
};

}  // namespace

StatusOr<Cluster> ParseClusterYaml(std::string_view text,
                                   const std::string& display) {
  return Loader(display).Run(text);
}

StatusOr<Cluster> LoadClusterYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseClusterYaml(text.str(), path);
}

}  // namespace dstrain::topology
