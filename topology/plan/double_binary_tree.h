#pragma once
// NCCL's double binary tree over nodes (the construction of NCCL's
// src/graph/trees.cc, re-derived here).
//
// Tree 0 numbers the nodes 0..n-1 and links a node to the one obtained by
// moving its lowest set bit up a place: node r with lowest set bit b has
// parent (r ^ b) | (b << 1), or r ^ b when that is out of range, and
// children r - b/2 and r + b/2 (the latter halved until in range). Node 0
// is the root; its only child is P/2, P the smallest power of two >= n.
// Odd nodes are leaves. Tree 1 is tree 0 mirrored (node r plays n-1-r)
// when n is even, or shifted by one (r plays r-1 mod n) when n is odd, so
// the leaves of one tree are the inner nodes of the other: every node
// sends and receives about the same in total and both trees run at once,
// each carrying half the data.
//
// The all-reduce (NCCL's tree algorithm): inside every node the ranks form
// a chain (local g-1 -> ... -> 0 reduces, 0 -> ... -> g-1 broadcasts), the
// chain's head joins both trees; each tree reduces its half up to the root
// and broadcasts it back down, pipelined in small chunks. Cost, with D the
// deeper tree's depth (about log2 n), c the pipeline chunk and B the
// bottleneck (a node's network bandwidth or a rank's host-internal one):
//
//   t ≈ 2(g-1)·(α_host + c/B_host) + 2D·(α_net + c/B_net) + 2S/B
//
// Latency grows with log n instead of n; the bandwidth term, 2S/B, is the
// ring's 2(n-1)/n·S/B within a factor n/(n-1).
//
// Builders are O(n log n) (the parent walk); schedules O(n·g).

#include <array>
#include <cstdint>
#include <vector>

#include "common/status.h"
#include "topology/plan/schedule.h"

namespace dstrain::topology {

struct BinaryTree {
  int32_t root = 0;
  std::vector<int32_t> parent;                   // -1 at the root
  std::vector<std::array<int32_t, 2>> children;  // -1: none
};

// One node of tree 0 (NCCL's ncclGetBtree): parent and children of `node`.
struct BtreeLinks {
  int32_t parent = -1;
  int32_t child0 = -1;
  int32_t child1 = -1;
};
BtreeLinks BtreeNode(int32_t nnodes, int32_t node);

// Both trees over nnodes >= 1 nodes.
std::array<BinaryTree, 2> BuildDoubleBinaryTree(int32_t nnodes);

// Edges on the longest root-to-leaf path.
int TreeDepth(const BinaryTree& tree);

// OK when `tree` spans 0..n-1: one root, parent and child lists agree,
// every node reaches the root, no node has more than two children.
Status ValidateBinaryTree(const BinaryTree& tree);

Schedule DoubleBinaryTreeAllReduce(int32_t nnodes, int32_t ranks_per_node);

}  // namespace dstrain::topology
