#include "coordinator/elastic.h"

#include <algorithm>
#include <cstdint>

namespace dstrain::coordinator {

ElasticBatch KeepGlobalBatch(int procs_per_node, int nodes_max, int nodes,
                             int micro_batch, int grad_accum) {
  ElasticBatch out;
  out.grad_accum = grad_accum;
  if (nodes == nodes_max || nodes <= 0 || procs_per_node <= 0) return out;
  // Micro-batches per optimizer step across the job at its full size.
  const std::int64_t micro_steps =
      std::int64_t{procs_per_node} * nodes_max * grad_accum;
  const std::int64_t ranks = std::int64_t{procs_per_node} * nodes;
  const std::int64_t full = micro_steps * micro_batch;
  if (micro_steps % ranks == 0) {
    out.grad_accum = static_cast<int>(micro_steps / ranks);
    out.note = "grad_accum " + std::to_string(out.grad_accum) +
               " keeps the global batch of " + std::to_string(full) +
               " sequences";
    return out;
  }
  out.kept = false;
  const std::int64_t now = ranks * grad_accum * micro_batch;
  out.note =
      "the global batch changes from " + std::to_string(full) + " to " +
      std::to_string(now) + " sequences: " + std::to_string(micro_steps) +
      " micro-batches do not divide over " + std::to_string(ranks) + " ranks";
  return out;
}

std::vector<std::size_t> PreferNodes(
    const std::vector<CandidateNode>& candidates,
    const std::set<std::string>& previous,
    const std::set<std::string>& previous_leaves) {
  const auto group = [&](const CandidateNode& c) {
    if (previous.count(c.node_id) > 0) return 0;
    if (!c.leaf.empty() && previous_leaves.count(c.leaf) > 0) return 1;
    return 2;
  };
  std::vector<std::size_t> order(candidates.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) {
                     return group(candidates[a]) < group(candidates[b]);
                   });
  return order;
}

}  // namespace dstrain::coordinator
