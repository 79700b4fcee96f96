#include "cli/topo/topo_dot.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "common/units.h"
#include "topology/io/hostlist.h"

namespace dstrain::cli {
namespace {

using topology::Cluster;
using topology::VertexId;

// A DOT string: quotes and backslashes of names escaped, and a line break
// written as DOT's `\n` escape (centred line), so that labels built with
// '\n' show two lines rather than a literal backslash-n.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The switches above `hosts`: everything reachable going to higher levels.
std::set<VertexId> SwitchesAbove(const Cluster& c,
                                 std::span<const VertexId> hosts) {
  std::set<VertexId> seen;
  std::vector<VertexId> stack(hosts.begin(), hosts.end());
  while (!stack.empty()) {
    const VertexId v = stack.back();
    stack.pop_back();
    for (const topology::Adjacent& a : c.neighbors(v)) {
      if (c.IsSwitch(a.neighbor) && c.Level(a.neighbor) > c.Level(v) &&
          seen.insert(a.neighbor).second) {
        stack.push_back(a.neighbor);
      }
    }
  }
  return seen;
}

struct EdgeGroup {
  int count = 0;
  double bandwidth = 0;  // of the first; merged links usually agree
};

}  // namespace

StatusOr<std::string> FabricDot(const Cluster& c,
                                std::span<const VertexId> ring,
                                int max_vertices) {
  const std::set<VertexId> switches = SwitchesAbove(c, ring);
  // Where each drawn host goes: itself, or its leaf's folded box.
  std::map<VertexId, std::string> box_of;
  std::map<std::string, std::vector<std::string>> folded;  // box -> hosts
  const bool fold =
      static_cast<int>(ring.size() + switches.size()) > max_vertices;
  if (fold) {
    if (static_cast<int>(switches.size()) > max_vertices) {
      return InvalidArgument(
          "--dot: the allocation spans " + std::to_string(ring.size()) +
          " hosts and " + std::to_string(switches.size()) +
          " switches, too many to draw (limit " + std::to_string(max_vertices) +
          " vertices); pick fewer hosts with --nodes or --num-nodes");
    }
    for (VertexId h : ring) {
      const VertexId leaf = c.LeafOf(h);
      if (leaf == topology::kNoVertex) {
        return InvalidArgument(
            "--dot: " + std::to_string(ring.size()) +
            " hosts without leaf switches are too many to draw (limit " +
            std::to_string(max_vertices) +
            "); pick fewer hosts with --nodes or --num-nodes");
      }
      box_of[h] = c.vertex(leaf).name + " hosts";
      folded[box_of[h]].push_back(c.vertex(h).name);
    }
  } else {
    for (VertexId h : ring) box_of[h] = c.vertex(h).name;
  }

  std::ostringstream out;
  out << "graph " << Quote(c.name()) << " {\n";
  out << "  graph [rankdir=BT, fontsize=10, label="
      << Quote(c.name() + ": " + std::to_string(ring.size()) +
               " hosts, ring in red")
      << "];\n";
  out << "  node [fontsize=10];\n";
  out << "  edge [fontsize=8, color=gray40];\n";
  // Switches, grouped by level so each level is one row.
  std::map<int, std::vector<VertexId>> by_level;
  for (VertexId s : switches) by_level[c.Level(s)].push_back(s);
  for (const auto& [level, list] : by_level) {
    out << "  { rank=same;";
    for (VertexId s : list) {
      out << " " << Quote(c.vertex(s).name) << " [shape=box, style=filled, "
          << "fillcolor=lightsteelblue, label="
          << Quote(c.vertex(s).name + "\nlevel " + std::to_string(level))
          << "];";
    }
    out << " }\n";
  }
  // Hosts or folded boxes, in ring order.
  out << "  { rank=same;";
  std::set<std::string> drawn;
  for (VertexId h : ring) {
    const std::string& box = box_of[h];
    if (!drawn.insert(box).second) continue;
    if (fold) {
      const auto& names = folded[box];
      out << " " << Quote(box) << " [shape=box3d, label="
          << Quote(topology::CompressHostList(names) + "\n" +
                   std::to_string(names.size()) + " hosts")
          << "];";
    } else {
      const auto& info = c.vertex(h).host;
      std::string label =
          c.vertex(h).name + "\n" + std::to_string(info.devices) + " dev";
      if (!info.torus_coords.empty()) {
        label += " (";
        for (std::size_t i = 0; i < info.torus_coords.size(); ++i)
          label += (i ? "," : "") + std::to_string(info.torus_coords[i]);
        label += ")";
      }
      out << " " << Quote(box) << " [shape=ellipse, label=" << Quote(label)
          << "];";
    }
  }
  out << " }\n";
  // Links among drawn vertices, parallel ones merged.
  auto name_of = [&](VertexId v) -> std::string {
    if (c.IsSwitch(v)) return switches.count(v) ? c.vertex(v).name : "";
    auto it = box_of.find(v);
    return it == box_of.end() ? "" : it->second;
  };
  std::map<std::pair<std::string, std::string>, EdgeGroup> edges;
  for (const topology::Link& l : c.links()) {
    std::string a = name_of(l.a);
    std::string b = name_of(l.b);
    if (a.empty() || b.empty() || a == b) continue;
    // Keep the lower level first so rankdir=BT draws hosts at the bottom.
    if (c.Level(l.a) > c.Level(l.b)) std::swap(a, b);
    EdgeGroup& g = edges[{a, b}];
    if (g.count++ == 0) g.bandwidth = l.bandwidth;
  }
  for (const auto& [ends, g] : edges) {
    std::string label = FormatBandwidth(g.bandwidth);
    if (g.count > 1) label = std::to_string(g.count) + "x " + label;
    out << "  " << Quote(ends.first) << " -- " << Quote(ends.second)
        << " [label=" << Quote(label) << "];\n";
  }
  // The ring, box to box (consecutive hosts in one box make no edge).
  std::vector<std::string> stops;
  for (VertexId h : ring) {
    if (stops.empty() || stops.back() != box_of[h]) stops.push_back(box_of[h]);
  }
  if (stops.size() > 1 && stops.back() == stops.front()) stops.pop_back();
  if (stops.size() > 1) {
    for (std::size_t i = 0; i < stops.size(); ++i) {
      const std::string& from = stops[i];
      const std::string& to = stops[(i + 1) % stops.size()];
      out << "  " << Quote(from) << " -- " << Quote(to)
          << " [color=red, penwidth=2, dir=forward, constraint=false, "
          << "label=" << Quote("ring " + std::to_string(i))
          << ", fontcolor=red];\n";
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace dstrain::cli
