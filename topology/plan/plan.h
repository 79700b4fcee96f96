#pragma once
// A placement plan as data: what the coordinator needs to start
// a job on a set of hosts and what the workers need to build their
// communicators.
//
//  - `placement`: the hosts in ring order (plan/placement.h) and what was
//    noticed while ordering them (torus hops that are not neighbours).
//  - `ranks`: the global rank order, exactly as topology::LayOutRanks lays
//    it out over the placement's hosts (rank = node * ranks_per_node +
//    local), so the coordinator can hand it to the agents unchanged.
//  - `communicators`: sub-communicators, each a name and, per global rank,
//    the (colour, key) pair to pass to Communicator::Split(color, key);
//    colour < 0 means "joins none".
//  - `algorithms`: the all-reduce algorithm per message-size range, chosen
//    by the cost model (planner/planner.h).
//  - `env`: per-job environment (NCCL_CROSS_NIC=0 on rail-optimized
//    fabrics, NCCL_ALGO when the plan forces one).
//
// Plain values; thread-compatible.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "topology/model/rank_layout.h"
#include "topology/plan/placement.h"

namespace dstrain::topology {

enum class Algorithm {
  kRing,                      // flat ring over every rank (ring.h)
  kDoubleBinaryTree,          // NCCL's tree (double_binary_tree.h)
  kRecursiveHalvingDoubling,  // Rabenseifner (recursive_halving_doubling.h)
  kHierarchical,              // intra-node RS, inter-node AR, intra AG
  kTorus,                     // parts on every dimension and direction at
                              // once (torus_allreduce.h)
};

inline constexpr Algorithm kAllAlgorithms[] = {
    Algorithm::kRing, Algorithm::kDoubleBinaryTree,
    Algorithm::kRecursiveHalvingDoubling, Algorithm::kHierarchical,
    Algorithm::kTorus};

// "ring", "tree", "rhd", "hierarchical", "torus".
const char* AlgorithmName(Algorithm algorithm);
// Accepts the names above (and "double_binary_tree",
// "recursive_halving_doubling"); INVALID_ARGUMENT names the choices.
StatusOr<Algorithm> ParseAlgorithm(std::string_view name);
// As ParseAlgorithm, plus "auto" (the job file's default), which gives an
// empty optional: let the cost model choose (PlanOptions::algorithm).
StatusOr<std::optional<Algorithm>> ParseAlgorithmChoice(std::string_view name);

struct SubCommunicator {
  std::string name;            // e.g. "intra_node", "inter_node", "torus_p0_x"
  std::vector<int32_t> color;  // per global rank; < 0: not a member
  std::vector<int32_t> key;    // per global rank; order inside the colour
};

// [min_bytes, max_bytes) uses `algorithm`; max_bytes == -1: no upper end.
struct AlgorithmRange {
  int64_t min_bytes = 0;
  int64_t max_bytes = -1;
  Algorithm algorithm = Algorithm::kRing;
};

struct Plan {
  std::string cluster;  // Cluster::name()
  Placement placement;
  int32_t ranks_per_node = 1;
  std::vector<RankSlot> ranks;  // index = global rank
  std::vector<SubCommunicator> communicators;
  std::vector<AlgorithmRange> algorithms;  // sorted, contiguous from 0
  std::vector<std::pair<std::string, std::string>> env;

  int32_t world_size() const { return static_cast<int32_t>(ranks.size()); }
  // nullptr when the plan has no communicator of that name.
  const SubCommunicator* FindCommunicator(std::string_view name) const;
  // The algorithm of the range holding `bytes` (kRing when none does).
  Algorithm AlgorithmFor(int64_t bytes) const;
};

}  // namespace dstrain::topology
