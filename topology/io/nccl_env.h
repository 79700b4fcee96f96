#pragma once
// Per-node NCCL environment for a host of a cluster, which the coordinator
// hands each node's agent with the placement plan:
//   NCCL_IB_HCA     `=mlx5_0:1,mlx5_1:1`: the host's NICs in NIC order, in
//                   NCCL's exact-match form (the leading `=`, so mlx5_1
//                   does not also select mlx5_10), each with its port;
//                   absent when the host lists no NICs.
//   NCCL_CROSS_NIC  `0` on rail-optimized fabrics (rings stay on one rail;
//                   NCCL's default 2 would let them change rail); absent
//                   elsewhere.
//   NCCL_TOPO_FILE  `topo_file` when not empty (write NcclTopologyXml's
//                   output there first).
//   NCCL_ALGO       when `algorithm` names an NCCL algorithm (ring, tree,
//                   collnet_direct, collnet_chain, nvls, nvls_tree, pat,
//                   in any case; a comma-separated list is allowed); absent
//                   for "" and "auto".
// INVALID_ARGUMENT when `host` is not a host of `cluster` or `algorithm`
// is unknown. Pure; thread-safe.

#include <map>
#include <string>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

struct NcclEnvOptions {
  std::string topo_file;  // path of the host's NCCL topology XML, or ""
  std::string algorithm;  // "", "auto", or NCCL algorithm name(s)
};

StatusOr<std::map<std::string, std::string>> NcclEnvironment(
    const Cluster& cluster, VertexId host, const NcclEnvOptions& options = {});

// The NCCL_ALGO spelling of one algorithm name ("ring" -> "Ring",
// "collnet_direct" -> "CollnetDirect"), or "" when unknown.
std::string NcclAlgoName(std::string_view name);

}  // namespace dstrain::topology
