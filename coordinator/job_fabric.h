#pragma once
// A job's nodes on the fabric its topology plan used, as data for drawing
// (the web page's fabric view): each node with its ranks and where it sits
// (the leaf switches it links to, or its torus coordinates), and the
// switches that serve the job's nodes, level by level up to the top (at
// most kMaxSwitchesPerLevel above the leaves, those serving the most shown
// switches below first; the rest are counted in switches_omitted). Leaves
// are never left out: every node is drawn under its own.
//
// Without a cluster description the kind is "none" and the nodes come in
// rank order with no switch. A node whose hostname the description lacks
// (the description changed since the job was placed) has no leaves.
// Pure; O(job nodes x host degree + shown switches x switch degree).

#include <string>
#include <vector>

#include "dstrain.pb.h"
#include "topology/model/cluster.h"

namespace dstrain::coordinator {

inline constexpr int kMaxSwitchesPerLevel = 32;

struct FabricPlacement {
  std::string node_id;
  std::string hostname;
  bool lost = false;
};

// `nodes` by node_rank; `cluster` null when the job names no description.
proto::JobFabric DescribeJobFabric(const topology::Cluster* cluster,
                                   const std::vector<FabricPlacement>& nodes,
                                   int procs_per_node);

}  // namespace dstrain::coordinator
