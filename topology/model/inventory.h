#pragma once
// Building or completing a Cluster from what the agents report (the
// NodeInventory of proto/dstrain.proto, copied into plain structs by the
// caller so topology/ has no proto dependency).
//
// For each record, in order:
//   - the host named `hostname` is added, or updated when it exists (a
//     switch of that name is an error);
//   - devices: `devices` when given (then `gpus` must be 0 or equal its
//     size), else `gpus` when > 0; NICs, NUMA nodes and torus coordinates
//     replace the host's when given, and are kept otherwise;
//   - `switch_path` (leaf first, then upwards): missing switches are
//     created with level = their index in the path; the host is linked to
//     the leaf unless it already is (a host already under another leaf is
//     an error naming both), and each switch to the next one unless they
//     are linked; every next switch must have a higher level.
// Then, when every host has torus coordinates of the same length, no host
// links to a host yet, and the fabric is a torus or unknown: the fabric
// becomes a torus (dims from options, else the cluster's, else max + 1
// per dimension with no wraparound, since a sub-block of a larger torus
// must not be closed into a ring) and every pair of present hosts one
// step apart is linked. When every host has a switch path and the fabric
// kind is unknown it becomes a fat-tree. Finally Validate() runs.
//
// Host links: a host's NIC bandwidths summed, else options.link_bandwidth.
// O(records * path length + hosts * dims). Pure; thread-safe.

#include <string>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

struct InventoryRecord {
  std::string hostname;
  std::vector<std::string> switch_path;  // leaf first; may be empty
  std::vector<int> torus_coords;         // may be empty
  int gpus = 0;                          // device count if `devices` empty
  std::vector<DeviceInfo> devices;
  std::vector<NicInfo> nics;
  std::vector<NumaInfo> numa_nodes;
};

struct InventoryOptions {
  double link_bandwidth = kDefaultLinkBandwidth;  // bytes/s
  double latency = kDefaultLinkLatency;           // seconds
  std::vector<int> torus_dims;  // known torus size; empty = infer
  bool wraparound = true;       // used only with torus_dims
};

// Updates `cluster` in place; on error it may be partly updated.
Status ApplyInventory(const std::vector<InventoryRecord>& records,
                      Cluster* cluster, const InventoryOptions& options = {});

// A new cluster from the records alone.
StatusOr<Cluster> ClusterFromInventory(
    const std::vector<InventoryRecord>& records,
    const InventoryOptions& options = {});

}  // namespace dstrain::topology
