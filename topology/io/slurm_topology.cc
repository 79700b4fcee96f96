#include "topology/io/slurm_topology.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "common/strings.h"
#include "common/yaml/suggest.h"
#include "topology/io/hostlist.h"
#include "topology/model/generators.h"

namespace dstrain::topology {
namespace {

struct Pos {
  int line = 0;  // 1-based
  int col = 0;   // 1-based
};

struct Value {
  bool present = false;
  std::string text;
  Pos pos;  // of the value's first character
  Pos key_pos;
};

struct SwitchLine {
  std::string name;
  Pos name_pos;
  Value nodes, switches, link_speed;
  double bandwidth = 0;       // bytes/s of links down from this switch
  std::vector<int> children;  // switch indices
  int level = -1;
};

// A line after joining continuations, with the file position of each
// character.
struct LogicalLine {
  std::string text;
  std::vector<Pos> pos;
};

std::string Q(std::string_view s) { return "`" + std::string(s) + "`"; }

class Parser {
 public:
  Parser(std::string display, const SlurmTopologyOptions& o)
      : display_(std::move(display)), options_(o) {}

  StatusOr<Cluster> Run(std::string_view text) {
    if (options_.devices_per_host < 0)
      return InvalidArgument("devices_per_host must be >= 0");
    std::vector<LogicalLine> lines = Join(text);
    for (const LogicalLine& l : lines) DSTRAIN_RETURN_IF_ERROR(ParseLine(l));
    if (switches_.empty()) {
      return InvalidArgument(display_ +
                             " defines no switches (expected lines like "
                             "`SwitchName=s0 Nodes=c[0-15]`)");
    }
    DSTRAIN_RETURN_IF_ERROR(ResolveSwitches());
    DSTRAIN_RETURN_IF_ERROR(FindCycles());
    DSTRAIN_RETURN_IF_ERROR(ResolveNodes());
    return Build();
  }

 private:
  std::string At(Pos p) const {
    return display_ + ":" + std::to_string(p.line) + ":" +
           std::to_string(p.col);
  }

  std::vector<LogicalLine> Join(std::string_view text) const {
    std::vector<LogicalLine> out;
    LogicalLine cur;
    bool continuing = false;
    int line_no = 0;
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(start, end - start);
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      const size_t hash = line.find('#');
      if (hash != std::string_view::npos) line = line.substr(0, hash);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
        line.remove_suffix(1);
      const bool cont = !line.empty() && line.back() == '\\';
      if (cont) line.remove_suffix(1);
      if (continuing) {
        cur.text += ' ';  // a continuation always separates tokens
        cur.pos.push_back(Pos{line_no, 1});
      }
      for (size_t i = 0; i < line.size(); ++i) {
        cur.text += line[i];
        cur.pos.push_back(Pos{line_no, static_cast<int>(i) + 1});
      }
      continuing = cont;
      if (!continuing) {
        out.push_back(std::move(cur));
        cur = LogicalLine{};
      }
      if (end == text.size()) break;
      start = end + 1;
    }
    if (continuing) out.push_back(std::move(cur));
    return out;
  }

  Status UnknownKey(const std::string& key, Pos p) const {
    const std::string lower = yaml::NormalizeSpelling(key);
    if (lower == "blockname" || lower == "blocksizes") {
      return InvalidArgument(Q(key) + " at " + At(p) +
                             " belongs to Slurm's topology/block plugin; "
                             "dstrain reads topology/tree files "
                             "(SwitchName, Switches, Nodes, LinkSpeed)");
    }
    static const std::vector<yaml::Candidate> pool = {
        {"switchname", "SwitchName"}, {"switches", "Switches"},
        {"nodes", "Nodes"},           {"linkspeed", "LinkSpeed"},
        {"nodename", "Nodes"},        {"switch", "SwitchName"},
        {"name", "SwitchName"},       {"speed", "LinkSpeed"},
    };
    const std::optional<std::string> s = yaml::ClosestMatch(lower, pool);
    if (s) {
      return InvalidArgument("unknown key " + Q(key) + " at " + At(p) +
                             "; did you mean `" + *s + "`?");
    }
    return InvalidArgument("unknown key " + Q(key) + " at " + At(p) +
                           " (valid keys: SwitchName, Switches, Nodes, "
                           "LinkSpeed)");
  }

  Status ParseLine(const LogicalLine& l) {
    SwitchLine sw;
    Value name;
    bool any = false;
    Pos first{};
    std::string first_key;
    for (size_t i = 0; i < l.text.size();) {
      if (l.text[i] == ' ' || l.text[i] == '\t') {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < l.text.size() && l.text[j] != ' ' && l.text[j] != '\t') ++j;
      const std::string token = l.text.substr(i, j - i);
      const Pos p = l.pos[i];
      const size_t eq = token.find('=');
      if (eq == std::string::npos || eq == 0) {
        return InvalidArgument("expected `Key=Value` at " + At(p) + ", got " +
                               Q(token));
      }
      const std::string key = token.substr(0, eq);
      if (!any) {
        first = p;
        first_key = key;
      }
      any = true;
      const std::string lower = yaml::NormalizeSpelling(key);
      Value* slot = nullptr;
      if (lower == "switchname")
        slot = &name;
      else if (lower == "nodes")
        slot = &sw.nodes;
      else if (lower == "switches")
        slot = &sw.switches;
      else if (lower == "linkspeed")
        slot = &sw.link_speed;
      else
        return UnknownKey(key, p);
      if (slot->present) {
        return InvalidArgument("key " + Q(key) + " at " + At(p) +
                               " appears twice on the line (first at " +
                               At(slot->key_pos) + ")");
      }
      if (eq + 1 == token.size()) {
        return InvalidArgument(Q(key + "=") + " at " + At(p) + " has no value");
      }
      slot->present = true;
      slot->text = token.substr(eq + 1);
      slot->pos = l.pos[i + eq + 1];
      slot->key_pos = p;
      i = j;
    }
    if (!any) return Status::Ok();
    if (!name.present) {
      return InvalidArgument("line at " + At(first) +
                             " has no SwitchName= (every topology.conf line "
                             "defines one switch)");
    }
    if (name.text.find_first_of("[],") != std::string::npos) {
      return InvalidArgument("SwitchName " + Q(name.text) + " at " +
                             At(name.pos) +
                             " must be a single switch name, not a host list");
    }
    // Slurm's parser keys a topology.conf line by its first word: other
    // keys before SwitchName= make it refuse the file.
    if (yaml::NormalizeSpelling(first_key) != "switchname") {
      return InvalidArgument(Q(first_key + "=") + " at " + At(first) +
                             " comes before SwitchName=; Slurm reads a line "
                             "only when it starts with SwitchName=, so move "
                             "it to the front");
    }
    sw.name = name.text;
    sw.name_pos = name.pos;
    if (sw.nodes.present && sw.switches.present) {
      return InvalidArgument("switch " + Q(sw.name) + " at " + At(sw.name_pos) +
                             " has both Nodes= and Switches=; dstrain puts "
                             "nodes under leaf switches only");
    }
    if (!sw.nodes.present && !sw.switches.present) {
      return InvalidArgument("switch " + Q(sw.name) + " at " + At(sw.name_pos) +
                             " has neither Nodes= nor Switches=; Slurm "
                             "refuses a switch without children: list its "
                             "nodes or child switches, or drop the line");
    }
    sw.bandwidth = options_.default_bandwidth;
    if (sw.link_speed.present) {
      const std::string& t = sw.link_speed.text;
      const std::optional<double> v = ParseFiniteDouble(t);
      if (!v || !(*v > 0)) {
        return InvalidArgument("LinkSpeed at " + At(sw.link_speed.pos) +
                               ": expected a positive number, got " + Q(t));
      }
      // Slurm reads LinkSpeed as a uint32 and refuses anything else.
      const std::optional<uint32_t> whole = ParseInteger<uint32_t>(t);
      if (!whole) {
        return InvalidArgument("LinkSpeed at " + At(sw.link_speed.pos) + ": " +
                               Q(t) +
                               " is not a whole number from 1 to 4294967295; "
                               "Slurm reads LinkSpeed as an unsigned 32-bit "
                               "integer");
      }
      sw.bandwidth = *whole * options_.link_speed_unit;
    }
    auto [it, fresh] =
        index_.emplace(sw.name, static_cast<int>(switches_.size()));
    if (!fresh) {
      return InvalidArgument("switch " + Q(sw.name) + " at " + At(sw.name_pos) +
                             " is defined twice (first at " +
                             At(switches_[it->second].name_pos) + ")");
    }
    switches_.push_back(std::move(sw));
    return Status::Ok();
  }

  // The position of `name` inside a host-list value, or the value's start.
  static Pos NamePos(const Value& v, const std::string& name) {
    const size_t k = v.text.find(name);
    Pos p = v.pos;
    if (k != std::string::npos) p.col += static_cast<int>(k);
    return p;
  }

  Status Expand(const Value& v, const char* key,
                std::vector<std::string>* out) const {
    HostListError e;
    if (!ExpandHostList(v.text, out, &e).ok()) {
      Pos p = v.pos;
      p.col += static_cast<int>(e.offset);  // values hold no line breaks
      return InvalidArgument("bad host list " + Q(v.text) + " in " + key +
                             "= at " + At(p) + ": " + e.what);
    }
    return Status::Ok();
  }

  Status Count(const Value& v, const char* key, uint64_t* count) const {
    HostListError e;
    if (!CountHostList(v.text, count, &e).ok()) {
      Pos p = v.pos;
      p.col += static_cast<int>(e.offset);
      return InvalidArgument("bad host list " + Q(v.text) + " in " + key +
                             "= at " + At(p) + ": " + e.what);
    }
    // `Nodes=,` is a list of no names, which leaves the switch childless.
    if (*count == 0) {
      return InvalidArgument(
          std::string(key) + "=" + v.text + " at " + At(v.pos) +
          " names nothing; list the " +
          (std::string(key) == "Nodes" ? "nodes" : "switches") +
          " under this switch");
    }
    return Status::Ok();
  }

  Status ResolveSwitches() {
    for (SwitchLine& sw : switches_) {
      if (!sw.switches.present) continue;
      uint64_t count = 0;
      DSTRAIN_RETURN_IF_ERROR(Count(sw.switches, "Switches", &count));
      std::vector<std::string> names;
      DSTRAIN_RETURN_IF_ERROR(Expand(sw.switches, "Switches", &names));
      for (const std::string& n : names) {
        auto it = index_.find(n);
        if (it == index_.end()) {
          return InvalidArgument("undefined switch " + Q(n) +
                                 " in Switches= at " +
                                 At(NamePos(sw.switches, n)));
        }
        if (switches_[it->second].name == sw.name) {
          return InvalidArgument("switch " + Q(sw.name) + " at " +
                                 At(NamePos(sw.switches, n)) +
                                 " lists itself in Switches=");
        }
        if (std::find(sw.children.begin(), sw.children.end(), it->second) !=
            sw.children.end()) {
          return InvalidArgument("switch " + Q(n) +
                                 " appears twice in Switches= at " +
                                 At(sw.switches.pos));
        }
        sw.children.push_back(it->second);
      }
    }
    return Status::Ok();
  }

  Status FindCycles() {
    // Iterative depth-first search; colour 0 = new, 1 = on the stack,
    // 2 = done. Levels are computed on the way out.
    std::vector<int> colour(switches_.size(), 0);
    for (size_t root = 0; root < switches_.size(); ++root) {
      if (colour[root]) continue;
      std::vector<std::pair<int, size_t>> stack{{static_cast<int>(root), 0}};
      colour[root] = 1;
      while (!stack.empty()) {
        auto& [s, next] = stack.back();
        SwitchLine& sw = switches_[s];
        if (next < sw.children.size()) {
          const int c = sw.children[next++];
          if (colour[c] == 1) {
            std::string path;
            bool on = false;
            for (const auto& [v, unused] : stack) {
              on = on || v == c;
              if (on) path += switches_[v].name + " -> ";
            }
            path += switches_[c].name;
            return InvalidArgument(
                "switch " + Q(switches_[c].name) + " at " +
                At(switches_[c].name_pos) +
                " references itself through a cycle: " + path);
          }
          if (colour[c] == 0) {
            colour[c] = 1;
            stack.push_back({c, 0});
          }
          continue;
        }
        sw.level = 0;
        for (int c : sw.children)
          sw.level = std::max(sw.level, switches_[c].level + 1);
        colour[s] = 2;
        stack.pop_back();
      }
    }
    return Status::Ok();
  }

  Status ResolveNodes() {
    // The leaf switch each node is under. Positions are found only for
    // messages: searching the value for every name made long Nodes= lists
    // quadratic.
    std::unordered_map<std::string, int> leaf_of;
    for (size_t s = 0; s < switches_.size(); ++s) {
      const SwitchLine& sw = switches_[s];
      if (!sw.nodes.present) continue;
      // Counted before they are built: `n[0-9][0-65535]` would be 655,360
      // strings to throw away.
      uint64_t count = 0;
      DSTRAIN_RETURN_IF_ERROR(Count(sw.nodes, "Nodes", &count));
      if (count > static_cast<uint64_t>(kMaxGeneratedVertices) ||
          hosts_.size() + count + switches_.size() >
              static_cast<size_t>(kMaxGeneratedVertices)) {
        return InvalidArgument(
            "too many nodes in Nodes= at " + At(sw.nodes.pos) + ": " +
            Q(sw.nodes.text) + " takes the cluster past " +
            std::to_string(kMaxGeneratedVertices) + " nodes and switches");
      }
      std::vector<std::string> names;
      DSTRAIN_RETURN_IF_ERROR(Expand(sw.nodes, "Nodes", &names));
      for (const std::string& n : names) {
        if (index_.count(n)) {
          return InvalidArgument("node " + Q(n) + " at " +
                                 At(NamePos(sw.nodes, n)) +
                                 " has the name of switch " + Q(n) + " (" +
                                 At(switches_[index_.at(n)].name_pos) + ")");
        }
        auto [it, fresh] = leaf_of.emplace(n, static_cast<int>(s));
        if (!fresh) {
          const int first = it->second;
          const Pos p = NamePos(sw.nodes, n);
          if (first == static_cast<int>(s)) {
            return InvalidArgument("node " + Q(n) + " at " + At(p) +
                                   " is listed twice under switch " +
                                   Q(sw.name));
          }
          return InvalidArgument("node " + Q(n) + " at " + At(p) +
                                 " is under two leaf switches: " + Q(sw.name) +
                                 ", and " + Q(switches_[first].name) + " at " +
                                 At(NamePos(switches_[first].nodes, n)));
        }
        hosts_.push_back({n, static_cast<int>(s)});
      }
    }
    return Status::Ok();
  }

  StatusOr<Cluster> Build() {
    Cluster c;
    c.set_name(display_);
    c.Reserve(static_cast<int>(hosts_.size() + switches_.size()),
              static_cast<int>(hosts_.size() + switches_.size() * 2));
    FabricParams f;
    f.kind = FabricKind::kFatTree;
    for (const SwitchLine& sw : switches_)
      f.levels = std::max(f.levels, sw.level + 1);
    c.set_fabric(f);
    HostInfo info;
    info.devices = options_.devices_per_host;
    for (const auto& [name, sw] : hosts_) {
      StatusOr<VertexId> h = c.AddHost(name, info);
      if (!h.ok())
        return InvalidArgument(display_ + ": " + h.status().message());
    }
    std::vector<VertexId> ids;
    for (const SwitchLine& sw : switches_) {
      StatusOr<VertexId> s = c.AddSwitch(sw.name, SwitchInfo{sw.level, -1});
      if (!s.ok())
        return InvalidArgument(display_ + ": " + s.status().message());
      ids.push_back(*s);
    }
    for (size_t i = 0; i < hosts_.size(); ++i) {
      const SwitchLine& sw = switches_[hosts_[i].second];
      StatusOr<LinkId> l =
          c.AddLink(static_cast<VertexId>(i), ids[hosts_[i].second],
                    sw.bandwidth, options_.latency);
      if (!l.ok())
        return InvalidArgument(display_ + ": " + l.status().message());
    }
    for (size_t s = 0; s < switches_.size(); ++s) {
      for (int child : switches_[s].children) {
        StatusOr<LinkId> l = c.AddLink(
            ids[s], ids[child], switches_[s].bandwidth, options_.latency);
        if (!l.ok())
          return InvalidArgument(display_ + ": " + l.status().message());
      }
    }
    Status v = c.Validate();
    if (!v.ok()) return InvalidArgument(display_ + ": " + v.message());
    return c;
  }

  std::string display_;
  SlurmTopologyOptions options_;
  std::vector<SwitchLine> switches_;
  std::unordered_map<std::string, int> index_;
  std::vector<std::pair<std::string, int>> hosts_;  // name, leaf switch index
};

}  // namespace

StatusOr<Cluster> ParseSlurmTopology(std::string_view text,
                                     const std::string& display,
                                     const SlurmTopologyOptions& options) {
  return Parser(display, options).Run(text);
}

StatusOr<Cluster> LoadSlurmTopologyFile(const std::string& path,
                                        const SlurmTopologyOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return ParseSlurmTopology(text.str(), path, options);
}

}  // namespace dstrain::topology
