#pragma once
// A cluster at a glance, for `dstrain topo show` and logs: counts, the
// switch levels, link bandwidths, and the oversubscription each level
// actually has (measured from the links, not taken from FabricParams).
//
// Oversubscription of a switch = bandwidth of its links to lower levels
// (hosts count as level -1) / bandwidth of its links to higher levels; a
// level's figure is the largest over its switches that have uplinks (0
// when none has). Components counts the connected pieces that hold hosts.
// O(V + E). Pure; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "topology/model/cluster.h"

namespace dstrain::topology {

struct LevelSummary {
  int level = 0;
  int switches = 0;
  double max_oversubscription = 0;  // 0 when no switch of the level has uplinks
  int max_down_ports = 0;           // most links to lower levels on one switch
  int max_up_ports = 0;
};

struct ClusterSummary {
  std::string name;
  FabricKind kind = FabricKind::kUnknown;
  int hosts = 0;
  int switches = 0;
  int links = 0;
  int64_t devices = 0;
  int min_devices_per_host = 0;
  int max_devices_per_host = 0;
  int nics = 0;                   // over all hosts
  double min_link_bandwidth = 0;  // bytes/s; 0 when there are no links
  double max_link_bandwidth = 0;
  double min_latency = 0;  // seconds
  double max_latency = 0;
  std::vector<LevelSummary> levels;  // by level, ascending
  std::vector<int> torus_dims;       // from FabricParams
  std::vector<bool> torus_wrap;
  int components = 0;  // connected pieces holding hosts (1 = one fabric)
};

ClusterSummary Summarize(const Cluster& cluster);

// A few human-readable lines (ends with a newline), e.g.
//   fat-tree-2leaf: fat-tree, 4 hosts (8 devices), 3 switches, 8 links
//   links: 100 Gb/s, 1 us
//   level 0: 2 switches, up to 2 down / 2 up ports, oversubscription 1:1
//   level 1: 1 switch, up to 4 down / 0 up ports
std::string FormatSummary(const ClusterSummary& summary);

}  // namespace dstrain::topology
