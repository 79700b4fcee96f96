#pragma once
// Fabric generators: regular clusters from a few numbers.
//
// Every generator returns a Cluster that passes Validate() and
// CheckConnected(), with FabricParams filled in, or INVALID_ARGUMENT naming
// the option that cannot work (e.g. "fat-tree: k=64 with oversubscription 2
// gives 21.33 uplinks per leaf ..."). Hosts come first (ids 0..hosts-1, in
// name order), then switches level by level. Cost: O(hosts + links); a
// 1,024-host 3-level fat-tree or a 16x16x16 torus builds in milliseconds.
// Pure functions; thread-safe.
//
// Fat-tree (folded Clos) of radix k and oversubscription o (the ratio of a
// switch's downlink to uplink bandwidth, 1 = non-blocking), all switch
// links of `switch_bandwidth`:
//   every leaf and aggregation switch has d = k*o/(1+o) down ports and
//   u = k/(1+o) up ports (both must be whole numbers);
//   a host uses `nics_per_host` down ports of its leaf (NIC i -> the same
//   leaf), so a leaf holds d / nics_per_host hosts;
//   2 levels: leaves + u spines; every leaf links once to every spine;
//     at most k leaves;
//   3 levels: pods of d leaves and u aggregation switches (every leaf of a
//     pod links once to every aggregation switch of its pod), and u*u core
//     switches: core j*u+m links to aggregation switch j of every pod;
//     at most k pods.
//   With o = 1 this is the k-ary fat-tree of Al-Fares et al. (k^3/4 hosts
//   at 3 levels). Only as many leaves and pods as `hosts` needs are built;
//   the last leaf may be partly filled.
// Names: hosts `node0000`.. (zero-padded to the widest index), switches
// `leaf<i>`, `spine<i>` (2 levels) or `agg<i>` and `core<i>` (3 levels).
//
// Rail-optimized fat-tree: hosts in groups of d = k*o/(1+o); each host has
// `rails` NICs (mlx5_0.. with rail = NIC index); NIC r of every host of a
// group links to that group's rail-r leaf (`g<group>-rail<r>`), so rail-r
// traffic inside a group crosses one switch. With 2 levels each rail has
// its own spine plane of u spines (`rail<r>-spine<m>`, every rail-r leaf
// links to every one of them; at most k groups), as in NVIDIA's
// rail-aligned SuperPODs: traffic changing rail goes through a host's
// NVLink/PCIe (PXN), which is why plans keep rings on one rail and set
// NCCL_CROSS_NIC=0. With 1 level there is a single group and no spines.
//
// Torus: hosts at every coordinate of `dims` (1 to 4 dimensions), named
// `node<x>-<y>[-<z>]`, inserted with dimension 0 varying fastest; each
// host links to its +1 neighbour in every dimension (and, with wraparound,
// the last to the first). A dimension of size 2 gets one link per pair, a
// dimension of size 1 none; otherwise a wrapped host has degree 2 per
// dimension.
//
// Size: a generated cluster has at most kMaxGeneratedVertices hosts and
// switches and kMaxGeneratedLinks links (counted before anything is built,
// so no radix, rail count or dimension can overflow or exhaust memory);
// beyond, INVALID_ARGUMENT ("fat-tree: k=100000 with 3 levels makes ...").
// The cluster description loader holds explicit clusters to the same.

#include <string>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

// Above any machine room today (32768 hosts of 8 GPUs are 262144 GPUs),
// and far below what would take seconds or gigabytes to build.
inline constexpr int64_t kMaxGeneratedVertices = int64_t{1} << 15;
inline constexpr int64_t kMaxGeneratedLinks = int64_t{1} << 18;

struct FatTreeOptions {
  int hosts = 0;                  // required, >= 1
  int devices_per_host = 8;       // ranks per host
  int k = 0;                      // switch radix (ports), required, >= 2
  int levels = 2;                 // 2 or 3
  double oversubscription = 1.0;  // >= 1
  int nics_per_host = 1;
  // Bytes/s of one host NIC's link to its leaf, and of every switch link
  // (0 = same as the NIC links).
  double nic_bandwidth = kDefaultLinkBandwidth;
  double switch_bandwidth = 0;
  double latency = kDefaultLinkLatency;  // seconds per link
  std::string host_prefix = "node";
};
StatusOr<Cluster> MakeFatTree(const FatTreeOptions& options);

struct RailOptimizedOptions {
  int hosts = 0;  // required, >= 1
  int devices_per_host = 8;
  int rails = 8;   // NICs per host, one rail each, >= 1
  int k = 0;       // switch radix, required, >= 2
  int levels = 2;  // 1 (one group, no spines) or 2
  double oversubscription = 1.0;
  double nic_bandwidth = kDefaultLinkBandwidth;
  double switch_bandwidth = 0;  // 0 = nic_bandwidth
  double latency = kDefaultLinkLatency;
  std::string host_prefix = "node";
};
StatusOr<Cluster> MakeRailOptimized(const RailOptimizedOptions& options);

struct TorusOptions {
  std::vector<int> dims;  // required: 1 to 4 sizes, each >= 1
  bool wraparound = true;
  int devices_per_host = 8;
  double link_bandwidth = kDefaultLinkBandwidth;
  double latency = kDefaultLinkLatency;
  std::string host_prefix = "node";
};
StatusOr<Cluster> MakeTorus(const TorusOptions& options);

// For loaders: links every pair of hosts one step apart in one dimension
// of the cluster's torus (fabric().torus_dims / torus_wrap; the same rules
// as MakeTorus), skipping coordinates where no host is. Every host needs
// coordinates inside the dims (checked first, with Validate()).
// O(hosts * dims).
Status LinkTorusNeighbours(Cluster* cluster, double bandwidth, double latency);

}  // namespace dstrain::topology
