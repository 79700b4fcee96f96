#pragma once
// Slurm's topology.conf (the topology/tree plugin's format) as a Cluster.
//
// Accepted:
//   SwitchName=s0 Nodes=c[0-5,7],gpu-[001-128] LinkSpeed=100
//   SwitchName=s1 Switches=s[0-3]
//   # comments run from `#` to the end of the line
//   SwitchName=s2 Nodes=c[8-9] <backslash>
//       LinkSpeed=200      (a trailing backslash continues the line)
// Keys are case-insensitive (SwitchName, Switches, Nodes, LinkSpeed), each
// at most once per line; every line starts with SwitchName=, and names
// Nodes= or Switches= (not both). Nodes= and Switches= take Slurm
// host-list expressions (hostlist.h); LinkSpeed a whole number.
//
// What Slurm 22.05's slurmctld refuses is refused: a line that does not
// start with SwitchName=, a switch with neither Nodes= nor Switches= or
// with both, a LinkSpeed that is not an unsigned 32-bit integer, a host
// list it would not expand, an undefined child switch, a switch defined
// twice. Refused although Slurm accepts them (it warns, or the result is
// no fabric dstrain can place ranks on): a node under two leaf switches
// (Slurm warns), a key twice on a line (Slurm warns and takes the last),
// LinkSpeed=0 or UNLIMITED (a link that carries nothing, or has no
// speed), a SwitchName with `[`, `]` or `,` (Slurm takes it as one name).
//
// Meaning: a switch with Nodes= is a leaf (level 0); a switch with
// Switches= sits one level above its highest child. Every node becomes a
// host with `devices_per_host` devices, in order of appearance; every
// switch a switch, in order of definition. LinkSpeed (Slurm leaves its
// unit open) is read as Gb/s by default (`link_speed_unit`) and applies to
// the links from that switch down to its nodes or child switches; links
// of switches without it get `default_bandwidth`. The fabric kind is
// fat-tree with `levels` = highest level + 1. A switch may have several
// parents (multi-rooted trees); disjoint trees are allowed, as in Slurm
// (callers that need one fabric call Cluster::CheckConnected).
//
// Errors are INVALID_ARGUMENT with one line naming the place
// (`file:line:column`, 1-based, as the caller spelt the file), e.g.
//   unknown key `Nodez` at topology.conf:3:15; did you mean `Nodes`?
//   bad host list `c[5-3]` at topology.conf:2:22: range `5-3` goes down
//   switch `s1` at topology.conf:4:12 lists itself in Switches=
//   switch `s0` at topology.conf:2:12 is in a cycle: s0 -> s1 -> s0
//   node `c3` at topology.conf:3:20 is under two leaf switches: `s1`, and
//       `s0` at topology.conf:2:15
//   undefined switch `s9` in Switches= at topology.conf:5:24
//   too many nodes in Nodes= at topology.conf:2:21: `n[0-99999]` takes the
//       cluster past 32768 nodes and switches
// (a cluster is bounded as generated ones are: generators.h). The first
// problem in file order is reported. Pure; thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

struct SlurmTopologyOptions {
  int devices_per_host = 1;
  double link_speed_unit =
      GbpsToBytesPerSecond(1);  // bytes/s per LinkSpeed unit
  double default_bandwidth = kDefaultLinkBandwidth;  // bytes/s
  double latency = kDefaultLinkLatency;              // seconds per link
};

// `display` names the file in messages.
StatusOr<Cluster> ParseSlurmTopology(std::string_view text,
                                     const std::string& display,
                                     const SlurmTopologyOptions& options = {});

// Reads `path` (NOT_FOUND when it cannot be read) and parses it.
StatusOr<Cluster> LoadSlurmTopologyFile(
    const std::string& path, const SlurmTopologyOptions& options = {});

}  // namespace dstrain::topology
