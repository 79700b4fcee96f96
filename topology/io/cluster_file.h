#pragma once
// One entry point for "a cluster description on disk" (what
// `topology.cluster` in a job file and `dstrain topo show FILE` name):
//   *.yaml, *.yml          -> the cluster YAML format (cluster_yaml.h)
//   *.conf, topology.conf  -> Slurm topology.conf (slurm_topology.h)
//   anything else          -> Slurm when the first key in the file is
//                             SwitchName= (any case), else YAML.
// NOT_FOUND when the file cannot be read; INVALID_ARGUMENT with the
// loaders' file:line:column messages otherwise. Thread-safe.

#include <string>

#include "common/status.h"
#include "topology/io/slurm_topology.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

enum class ClusterFileFormat { kYaml, kSlurmTopology };

// The format LoadClusterFile would use for `path` with this content.
ClusterFileFormat DetectClusterFileFormat(const std::string& path,
                                          std::string_view text);

// `slurm` applies to topology.conf files only (they carry no device counts).
StatusOr<Cluster> LoadClusterFile(const std::string& path,
                                  const SlurmTopologyOptions& slurm = {});

}  // namespace dstrain::topology
