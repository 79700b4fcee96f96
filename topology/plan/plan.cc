#include "topology/plan/plan.h"

namespace dstrain::topology {

const char* AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kRing:
      return "ring";
    case Algorithm::kDoubleBinaryTree:
      return "tree";
    case Algorithm::kRecursiveHalvingDoubling:
      return "rhd";
    case Algorithm::kHierarchical:
      return "hierarchical";
    case Algorithm::kTorus:
      return "torus";
  }
  return "ring";
}

StatusOr<Algorithm> ParseAlgorithm(std::string_view name) {
  for (Algorithm a : kAllAlgorithms)
    if (name == AlgorithmName(a)) return a;
  if (name == "double_binary_tree") return Algorithm::kDoubleBinaryTree;
  if (name == "recursive_halving_doubling")
    return Algorithm::kRecursiveHalvingDoubling;
  return InvalidArgument("unknown algorithm `" + std::string(name) +
                         "` (expected ring, tree, rhd, hierarchical or torus)");
}

StatusOr<std::optional<Algorithm>> ParseAlgorithmChoice(std::string_view name) {
  if (name == "auto") return std::optional<Algorithm>();
  auto a = ParseAlgorithm(name);
  if (!a.ok()) {
    return InvalidArgument("unknown algorithm `" + std::string(name) +
                           "` (expected auto, ring, tree, rhd, hierarchical "
                           "or torus)");
  }
  return std::optional<Algorithm>(*a);
}

const SubCommunicator* Plan::FindCommunicator(std::string_view name) const {
  for (const SubCommunicator& c : communicators)
    if (c.name == name) return &c;
  return nullptr;
}

Algorithm Plan::AlgorithmFor(int64_t bytes) const {
  for (const AlgorithmRange& r : algorithms)
    if (bytes >= r.min_bytes && (r.max_bytes < 0 || bytes < r.max_bytes))
      return r.algorithm;
  return Algorithm::kRing;
}

}  // namespace dstrain::topology
