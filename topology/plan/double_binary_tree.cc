#include "topology/plan/double_binary_tree.h"

#include <algorithm>
#include <string>

namespace dstrain::topology {

BtreeLinks BtreeNode(int32_t n, int32_t r) {
  BtreeLinks out;
  int32_t bit = 1;
  while (bit < n && !(bit & r)) bit <<= 1;
  if (r == 0) {
    out.child1 = n > 1 ? bit >> 1 : -1;
    return out;
  }
  out.parent = (r ^ bit) | (bit << 1);
  if (out.parent >= n) out.parent = r ^ bit;
  int32_t low = bit >> 1;
  out.child0 = low == 0 ? -1 : r - low;
  out.child1 = low == 0 ? -1 : r + low;
  while (out.child1 >= n) {
    low >>= 1;
    out.child1 = low == 0 ? -1 : r + low;
  }
  return out;
}

std::array<BinaryTree, 2> BuildDoubleBinaryTree(int32_t n) {
  std::array<BinaryTree, 2> trees;
  for (BinaryTree& t : trees) {
    t.parent.assign(n, -1);
    t.children.assign(n, {-1, -1});
  }
  const bool mirror = n % 2 == 0;
  auto map1 = [&](int32_t x) -> int32_t {  // tree-0 position -> tree-1 node
    if (x < 0) return -1;
    return mirror ? n - 1 - x : (x + 1) % n;
  };
  for (int32_t r = 0; r < n; ++r) {
    const BtreeLinks a = BtreeNode(n, r);
    trees[0].parent[r] = a.parent;
    trees[0].children[r] = {a.child0, a.child1};
    const int32_t pos = mirror ? n - 1 - r : (r - 1 + n) % n;
    const BtreeLinks b = BtreeNode(n, pos);
    trees[1].parent[r] = map1(b.parent);
    trees[1].children[r] = {map1(b.child0), map1(b.child1)};
  }
  trees[0].root = 0;
  trees[1].root = (n % 2 == 1 && n > 1) ? 1 : n - 1;
  return trees;
}

int TreeDepth(const BinaryTree& tree) {
  const int32_t n = static_cast<int32_t>(tree.parent.size());
  if (n == 0 || tree.root < 0 || tree.root >= n) return 0;
  // Memoised parent walks: O(n) amortised. A walk that leaves the tree or
  // runs longer than n (a cycle; ValidateBinaryTree reports those) stops.
  std::vector<int32_t> depth(n, -1);
  depth[tree.root] = 0;
  int best = 0;
  std::vector<int32_t> path;
  for (int32_t v = 0; v < n; ++v) {
    path.clear();
    int32_t u = v;
    while (u >= 0 && u < n && depth[u] < 0 &&
           static_cast<int32_t>(path.size()) <= n) {
      path.push_back(u);
      u = tree.parent[u];
    }
    int d = (u >= 0 && u < n && depth[u] >= 0) ? depth[u] : 0;
    for (auto it = path.rbegin(); it != path.rend(); ++it) depth[*it] = ++d;
    best = std::max(best, d);
  }
  return best;
}

Status ValidateBinaryTree(const BinaryTree& tree) {
  const int32_t n = static_cast<int32_t>(tree.parent.size());
  if (n == 0) return InvalidArgument("tree has no nodes");
  if (static_cast<int32_t>(tree.children.size()) != n)
    return InvalidArgument("tree: parent and child lists differ in length");
  if (tree.root < 0 || tree.root >= n)
    return InvalidArgument("tree root " + std::to_string(tree.root) +
                           " is outside 0.." + std::to_string(n - 1));
  std::vector<int> child_count(n, 0);
  for (int32_t v = 0; v < n; ++v) {
    const int32_t p = tree.parent[v];
    if (v == tree.root) {
      if (p != -1)
        return InvalidArgument("tree root " + std::to_string(v) +
                               " has a parent");
      continue;
    }
    if (p < 0 || p >= n)
      return InvalidArgument("tree node " + std::to_string(v) +
                             " has no parent");
    const auto& c = tree.children[p];
    if (c[0] != v && c[1] != v) {
      return InvalidArgument("tree node " + std::to_string(v) +
                             " names parent " + std::to_string(p) +
                             ", which does not list it as a child");
    }
    ++child_count[p];
  }
  for (int32_t v = 0; v < n; ++v) {
    int listed = 0;
    for (int32_t c : tree.children[v]) {
      if (c == -1) continue;
      if (c < 0 || c >= n || tree.parent[c] != v) {
        return InvalidArgument("tree node " + std::to_string(v) +
                               " lists child " + std::to_string(c) +
                               ", whose parent differs");
      }
      ++listed;
    }
    if (listed != child_count[v])
      return InvalidArgument("tree node " + std::to_string(v) +
                             ": child list and parents disagree");
  }
  // Every node reaches the root (no cycles): colour by walking up.
  std::vector<int8_t> state(n, 0);  // 0 new, 1 on path, 2 reaches root
  state[tree.root] = 2;
  for (int32_t v = 0; v < n; ++v) {
    std::vector<int32_t> path;
    int32_t u = v;
    while (state[u] == 0) {
      state[u] = 1;
      path.push_back(u);
      u = tree.parent[u];
    }
    if (state[u] == 1)
      return InvalidArgument("tree has a cycle through node " +
                             std::to_string(u));
    for (int32_t w : path) state[w] = 2;
  }
  return Status::Ok();
}

Schedule DoubleBinaryTreeAllReduce(int32_t nnodes, int32_t g) {
  Schedule s;
  s.algorithm = "tree";
  s.nranks = nnodes * g;
  s.ranks_per_node = g;
  if (s.nranks < 2) return s;
  Phase p;
  p.name = "double binary tree (pipelined)";
  p.kind = PhaseKind::kPipelined;
  p.chunk_fraction = 0.5;
  p.host_hops = 2 * (g - 1);
  // Chains: every chain link carries the whole buffer each way.
  for (int32_t node = 0; node < nnodes; ++node) {
    for (int32_t l = 0; l + 1 < g; ++l) {
      const int32_t a = node * g + l;
      p.transfers.push_back({a + 1, a, 1.0});  // reduce toward the head
      p.transfers.push_back({a, a + 1, 1.0});  // broadcast back
    }
  }
  if (nnodes > 1) {
    const auto trees = BuildDoubleBinaryTree(nnodes);
    int depth = 0;
    for (const BinaryTree& t : trees) {
      depth = std::max(depth, TreeDepth(t));
      for (int32_t v = 0; v < nnodes; ++v) {
        const int32_t parent = t.parent[v];
        if (parent < 0) continue;
        // Each tree carries half the buffer up (reduce) and down (broadcast).
        p.transfers.push_back({v * g, parent * g, 0.5});
        p.transfers.push_back({parent * g, v * g, 0.5});
      }
    }
    p.net_hops = 2 * depth;
  }
  s.phases.push_back(std::move(p));
  return s;
}

}  // namespace dstrain::topology
