#pragma once
// Elastic jobs (nodes: {min, max} with min < max): what changes when an
// attempt runs on another number of nodes than the job file was written
// for. Pure.
//
// The global batch. An elastic job's global batch is the one it has on
// nodes.max nodes: procs_per_node x nodes.max x micro_batch x grad_accum
// sequences. On fewer nodes (a node lost, no spare) each rank accumulates
// more micro-batches, so the optimizer sees the same batch and the
// learning-rate schedule and checkpoint positions stay valid:
//   nodes.max 2, procs 2, micro_batch 8, grad_accum 1 -> on 1 node:
//   grad_accum 2, global batch 32 kept.
// Where the ranks cannot share the micro-batches evenly (3 nodes' worth
// over 2), grad_accum stays as written and the note says how the global
// batch changes.
//
// The nodes. When a restart can choose among more free nodes than it
// takes, the previous attempt's nodes come first (their page cache and
// compiled state are warm), then nodes on a leaf switch one of them used
// (a spare on the same leaf keeps the ring's traffic under that switch),
// then the rest, each group in registration order.

#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace dstrain::coordinator {

struct ElasticBatch {
  int grad_accum = 1;  // for this attempt
  bool kept = true;    // the global batch is the job's at nodes.max
  // For the placement event: "grad_accum 2 keeps the global batch of 32
  // sequences" or "the global batch changes from 48 to 32 sequences:
  // 3 nodes' micro-batches do not divide over 2". Empty when the attempt
  // runs at the job's full size.
  std::string note;
};

// `grad_accum` and `micro_batch` as the job file sets them.
ElasticBatch KeepGlobalBatch(int procs_per_node, int nodes_max, int nodes,
                             int micro_batch, int grad_accum);

struct CandidateNode {
  std::string node_id;
  std::string leaf;  // "" when unknown (no cluster description)
};

// The order in which to take `candidates` (indices into it), preferring
// `previous` nodes, then nodes on one of `previous_leaves`.
std::vector<std::size_t> PreferNodes(
    const std::vector<CandidateNode>& candidates,
    const std::set<std::string>& previous,
    const std::set<std::string>& previous_leaves);

}  // namespace dstrain::coordinator
