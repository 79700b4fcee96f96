#pragma once
// `dstrain topo`: the topology engine from the command line (docs/topology.md).
//
//   dstrain topo show CLUSTER                 the fabric at a glance
//   dstrain topo plan CLUSTER [allocation]    rank order, sub-communicators,
//                                             algorithm per size, predicted
//                                             time against hostname and
//                                             random order
//   dstrain topo simulate CLUSTER [allocation] [--min-bytes --max-bytes]
//                                             a sweep: time, algbw, busbw,
//                                             the most loaded link
// CLUSTER: a cluster YAML, a Slurm topology.conf or a generator spec
// (cli/topo/topo_cluster_arg.h). Allocation: --nodes HOSTLIST or
// --num-nodes N (the first N hosts in name order; default every host),
// --procs-per-node K (default the hosts' device count), --algorithm,
// --placement. Each prints aligned tables, or one JSON object with --json,
// or Graphviz with --dot.
//
// Exit codes: 0 done; 2 bad arguments or an unreadable / invalid cluster
// (one line on stderr naming the flag or the file:line:column).

#include <cstdint>
#include <string>

namespace dstrain::cli {

struct TopoOptions {
  std::string action;  // show | plan | simulate
  std::string cluster;
  std::string nodes;       // Slurm host list
  int num_nodes = 0;       // 0: every host (or --nodes)
  int procs_per_node = 0;  // 0: the hosts' smallest device count
  int devices = 0;         // devices per host for topology.conf (0: 1)
  std::string algorithm = "auto";
  std::string placement = "auto";
  std::uint64_t seed = 1;  // random order's seed
  std::string min_bytes = "1K";
  std::string max_bytes = "1G";
  bool json = false;
  bool dot = false;
};

int RunTopo(const TopoOptions& options);

}  // namespace dstrain::cli
