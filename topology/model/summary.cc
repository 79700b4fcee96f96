#include "topology/model/summary.h"

#include <algorithm>
#include <map>

#include "common/strings.h"
#include "common/units.h"

namespace dstrain::topology {
namespace {

std::string Range(const std::string& lo, const std::string& hi) {
  return lo == hi ? lo : lo + " to " + hi;
}

}  // namespace

ClusterSummary Summarize(const Cluster& c) {
  ClusterSummary s;
  s.name = c.name();
  s.kind = c.fabric().kind;
  s.hosts = c.num_hosts();
  s.switches = c.num_switches();
  s.links = c.num_links();
  s.devices = c.total_devices();
  s.torus_dims = c.fabric().torus_dims;
  s.torus_wrap = c.fabric().torus_wrap;
  bool first = true;
  for (VertexId h : c.hosts()) {
    const HostInfo& info = c.vertex(h).host;
    s.nics += static_cast<int>(info.nics.size());
    s.min_devices_per_host =
        first ? info.devices : std::min(s.min_devices_per_host, info.devices);
    s.max_devices_per_host = std::max(s.max_devices_per_host, info.devices);
    first = false;
  }
  first = true;
  for (const Link& l : c.links()) {
    s.min_link_bandwidth =
        first ? l.bandwidth : std::min(s.min_link_bandwidth, l.bandwidth);
    s.max_link_bandwidth = std::max(s.max_link_bandwidth, l.bandwidth);
    s.min_latency = first ? l.latency : std::min(s.min_latency, l.latency);
    s.max_latency = std::max(s.max_latency, l.latency);
    first = false;
  }
  std::map<int, LevelSummary> levels;
  for (VertexId v : c.switches()) {
    const int level = c.Level(v);
    LevelSummary& ls = levels[level];
    ls.level = level;
    ++ls.switches;
    double down = 0, up = 0;
    int down_ports = 0, up_ports = 0;
    for (const Adjacent& adj : c.neighbors(v)) {
      const double bw = c.link(adj.link).bandwidth;
      if (c.Level(adj.neighbor) < level) {
        down += bw;
        ++down_ports;
      } else if (c.Level(adj.neighbor) > level) {
        up += bw;
        ++up_ports;
      }
    }
    ls.max_down_ports = std::max(ls.max_down_ports, down_ports);
    ls.max_up_ports = std::max(ls.max_up_ports, up_ports);
    if (up > 0)
      ls.max_oversubscription = std::max(ls.max_oversubscription, down / up);
  }
  for (auto& [level, ls] : levels) s.levels.push_back(ls);

  // Connected pieces that hold hosts.
  std::vector<int> dist;
  std::vector<char> seen(c.num_vertices(), 0);
  for (VertexId h : c.hosts()) {
    if (seen[h]) continue;
    ++s.components;
    dist = c.HopDistances(h);
    for (VertexId v = 0; v < c.num_vertices(); ++v)
      if (dist[v] >= 0) seen[v] = 1;
  }
  return s;
}

std::string FormatSummary(const ClusterSummary& s) {
  std::string out =
      (s.name.empty() ? "cluster" : s.name) + ": " + FabricKindName(s.kind);
  if (!s.torus_dims.empty()) {
    out += " ";
    for (size_t i = 0; i < s.torus_dims.size(); ++i)
      out += (i ? "x" : "") + std::to_string(s.torus_dims[i]);
    bool all_wrap = true;
    for (bool w : s.torus_wrap) all_wrap &= w;
    out += all_wrap ? " (wraparound)" : " (mesh)";
  }
  out += ", " + std::to_string(s.hosts) + (s.hosts == 1 ? " host" : " hosts") +
         " (" + std::to_string(s.devices) + " devices";
  if (s.hosts > 0) {
    out += ", " +
           Range(std::to_string(s.min_devices_per_host),
                 std::to_string(s.max_devices_per_host)) +
           " per host";
  }
  out += "), " + std::to_string(s.switches) +
         (s.switches == 1 ? " switch, " : " switches, ") +
         std::to_string(s.links) + (s.links == 1 ? " link" : " links");
  if (s.nics > 0) out += ", " + std::to_string(s.nics) + " NICs";
  out += "\n";
  if (s.links > 0) {
    out += "links: " +
           Range(FormatBandwidth(s.min_link_bandwidth),
                 FormatBandwidth(s.max_link_bandwidth)) +
           ", " +
           Range(FormatLatency(s.min_latency), FormatLatency(s.max_latency)) +
           "\n";
  }
  for (const LevelSummary& l : s.levels) {
    out += "level " + std::to_string(l.level) + ": " +
           std::to_string(l.switches) +
           (l.switches == 1 ? " switch" : " switches") + ", up to " +
           std::to_string(l.max_down_ports) + " down / " +
           std::to_string(l.max_up_ports) + " up ports";
    if (l.max_oversubscription > 0)
      out += ", oversubscription " + StrFormat("%.4g", l.max_oversubscription) +
             ":1";
    out += "\n";
  }
  if (s.components > 1) {
    out += "not connected: " + std::to_string(s.components) +
           " separate pieces hold hosts\n";
  }
  return out;
}

}  // namespace dstrain::topology
