#include "topology/plan/hierarchical.h"

namespace dstrain::topology {

std::vector<SubCommunicator> HierarchicalCommunicators(int32_t nnodes,
                                                       int32_t g) {
  SubCommunicator intra{"intra_node", {}, {}};
  SubCommunicator inter{"inter_node", {}, {}};
  const int32_t n = nnodes * g;
  for (SubCommunicator* c : {&intra, &inter}) {
    c->color.resize(n);
    c->key.resize(n);
  }
  for (int32_t node = 0; node < nnodes; ++node) {
    for (int32_t l = 0; l < g; ++l) {
      const int32_t r = node * g + l;
      intra.color[r] = node;
      intra.key[r] = l;
      inter.color[r] = l;
      inter.key[r] = node;
    }
  }
  return {std::move(intra), std::move(inter)};
}

Schedule HierarchicalAllReduce(int32_t nnodes, int32_t g) {
  Schedule s;
  s.algorithm = "hierarchical";
  s.nranks = nnodes * g;
  s.ranks_per_node = g;
  if (g > 1) {
    Phase intra;
    intra.name = "intra-node reduce-scatter + all-gather";
    intra.steps = 2 * static_cast<int64_t>(g - 1);
    for (int32_t node = 0; node < nnodes; ++node)
      for (int32_t l = 0; l < g; ++l)
        intra.transfers.push_back(
            {node * g + l, node * g + (l + 1) % g, 1.0 / g});
    s.phases.push_back(std::move(intra));
  }
  if (nnodes > 1) {
    Phase inter;
    inter.name = "inter-node all-reduce (one ring per local rank)";
    inter.steps = 2 * static_cast<int64_t>(nnodes - 1);
    const double fraction = 1.0 / (static_cast<double>(g) * nnodes);
    for (int32_t node = 0; node < nnodes; ++node)
      for (int32_t l = 0; l < g; ++l)
        inter.transfers.push_back(
            {node * g + l, ((node + 1) % nnodes) * g + l, fraction});
    s.phases.push_back(std::move(inter));
  }
  return s;
}

}  // namespace dstrain::topology
