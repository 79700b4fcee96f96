#pragma once
// The CLUSTER argument of `dstrain topo`: a cluster description on disk or
// a generator spec, resolved to a topology::Cluster.
//
//   configs/clusters/fat-tree-2leaf.yaml   cluster YAML (topology/io)
//   /etc/slurm/topology.conf               Slurm topology.conf
//   fat-tree:k=16,levels=3,hosts=1024,devices=8,oversub=2
//   rail:k=16,hosts=32,rails=8             (also `rail-optimized:`)
//   torus:16x16x16[,devices=8,wrap=false]
//
// A spec is `KIND:` then comma-separated `key=value` items (a torus also
// takes its dims bare as the first item). Keys: fat-tree and rail: hosts,
// k, levels, oversub (or oversubscription), devices, nics (fat-tree),
// rails (rail), bw (NIC link bandwidth with a unit, `400Gb/s`), switch_bw,
// latency (`0.5us`), prefix; torus: dims (`4x4`), wrap, devices, bw,
// latency, prefix. The argument is a file when a file of that name exists
// or it has no `KIND:` prefix.
//
// Errors are one line naming the place: the loaders' file:line:column, or
// for a spec the column of the bad item ("cluster spec `torus:4xq` at
// column 9: ..."). Pure function apart from reading the file; thread-safe.

#include <string>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::cli {

// `devices_per_host` applies to Slurm topology.conf files (which do not know
// the GPUs); 0 keeps the loader's default of 1.
StatusOr<topology::Cluster> LoadClusterArg(const std::string& arg,
                                           int devices_per_host = 0);

// True when `arg` reads as a generator spec (KIND: prefix).
bool IsGeneratorSpec(const std::string& arg);

}  // namespace dstrain::cli
