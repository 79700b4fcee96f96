#include "topology/plan/torus_allreduce.h"

#include <string>

namespace dstrain::topology {
namespace {

const char* kDimNames[] = {"x", "y", "z", "w"};

int64_t BoxIndex(const std::vector<int>& c, const std::vector<int>& extent) {
  int64_t i = 0;
  for (size_t d = extent.size(); d-- > 0;) i = i * extent[d] + c[d];
  return i;
}

// node index at each box position (-1: none).
std::vector<int32_t> NodeAtBox(const TorusLayout& layout) {
  int64_t volume = 1;
  for (int e : layout.extent) volume *= e;
  std::vector<int32_t> at(volume, -1);
  for (size_t v = 0; v < layout.coords.size(); ++v)
    at[BoxIndex(layout.coords[v], layout.extent)] = static_cast<int32_t>(v);
  return at;
}

}  // namespace

StatusOr<TorusLayout> TorusLayoutOf(const Cluster& cluster,
                                    const Placement& placement) {
  if (placement.box_extent.empty()) {
    return FailedPrecondition(
        "the torus all-reduce needs hosts that fill a box of the torus; "
        "this allocation of " +
        std::to_string(placement.hosts.size()) + " hosts does not");
  }
  const auto& dims = cluster.fabric().torus_dims;
  TorusLayout layout;
  layout.extent = placement.box_extent;
  layout.coords.reserve(placement.hosts.size());
  for (VertexId h : placement.hosts) {
    const auto& c = cluster.vertex(h).host.torus_coords;
    if (c.size() != layout.extent.size() || dims.size() != c.size())
      return InvalidArgument("host `" + cluster.vertex(h).name +
                             "` has no torus coordinates of the box's rank");
    std::vector<int> rel(c.size());
    for (size_t d = 0; d < c.size(); ++d)
      rel[d] = ((c[d] - placement.box_origin[d]) % dims[d] + dims[d]) % dims[d];
    layout.coords.push_back(std::move(rel));
  }
  DSTRAIN_RETURN_IF_ERROR(ValidateTorusLayout(layout));
  return layout;
}

Status ValidateTorusLayout(const TorusLayout& layout) {
  if (layout.extent.empty() || layout.extent.size() > 4)
    return InvalidArgument("torus layout needs 1 to 4 dimensions");
  int64_t volume = 1;
  for (int e : layout.extent) {
    if (e < 1) return InvalidArgument("torus layout extent below 1");
    volume *= e;
  }
  if (static_cast<int64_t>(layout.coords.size()) != volume) {
    return InvalidArgument("torus layout has " +
                           std::to_string(layout.coords.size()) +
                           " hosts for a box of " + std::to_string(volume));
  }
  std::vector<bool> seen(volume, false);
  for (const auto& c : layout.coords) {
    if (c.size() != layout.extent.size())
      return InvalidArgument("torus layout: coordinates of the wrong rank");
    for (size_t d = 0; d < c.size(); ++d)
      if (c[d] < 0 || c[d] >= layout.extent[d])
        return InvalidArgument("torus layout: coordinates outside the box");
    const int64_t i = BoxIndex(c, layout.extent);
    if (seen[i])
      return InvalidArgument("torus layout: two hosts at one box position");
    seen[i] = true;
  }
  return Status::Ok();
}

std::vector<SubCommunicator> TorusCommunicators(const TorusLayout& layout,
                                                int32_t g) {
  std::vector<SubCommunicator> out;
  const int32_t nodes = static_cast<int32_t>(layout.coords.size());
  const int32_t n = nodes * g;
  if (g > 1) {
    SubCommunicator intra{"intra_node", std::vector<int32_t>(n),
                          std::vector<int32_t>(n)};
    for (int32_t r = 0; r < n; ++r) {
      intra.color[r] = r / g;
      intra.key[r] = r % g;
    }
    out.push_back(std::move(intra));
  }
  const size_t nd = layout.extent.size();
  for (size_t k = 0; k < nd; ++k) {
    if (layout.extent[k] < 2) continue;
    SubCommunicator c{std::string("torus_") + kDimNames[k],
                      std::vector<int32_t>(n), std::vector<int32_t>(n)};
    for (int32_t v = 0; v < nodes; ++v) {
      const auto& xyz = layout.coords[v];
      int64_t line = 0;
      for (size_t d = 0; d < nd; ++d)
        if (d != k) line = line * layout.extent[d] + xyz[d];
      for (int32_t l = 0; l < g; ++l) {
        const int32_t r = v * g + l;
        c.color[r] = static_cast<int32_t>(line * g + l);
        c.key[r] = xyz[k];
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

Schedule TorusAllReduce(const TorusLayout& layout, int32_t g) {
  Schedule s;
  s.algorithm = "torus";
  const int32_t nodes = static_cast<int32_t>(layout.coords.size());
  s.nranks = nodes * g;
  s.ranks_per_node = g;
  if (g > 1) {
    Phase intra;
    intra.name = "intra-node reduce-scatter + all-gather";
    intra.steps = 2 * static_cast<int64_t>(g - 1);
    for (int32_t v = 0; v < nodes; ++v)
      for (int32_t l = 0; l < g; ++l)
        intra.transfers.push_back({v * g + l, v * g + (l + 1) % g, 1.0 / g});
    s.phases.push_back(std::move(intra));
  }
  const std::vector<int32_t> at = NodeAtBox(layout);
  double share = 1.0 / g;  // of S, carried by each rank entering the phase
  bool first = true;
  for (size_t k = 0; k < layout.extent.size(); ++k) {
    const int e = layout.extent[k];
    if (e < 2) continue;
    share /= e;
    Phase ph;
    ph.name = std::string(first ? "reduce-scatter + all-gather along "
                                : "all-reduce along ") +
              kDimNames[k];
    first = false;
    ph.steps = 2 * static_cast<int64_t>(e - 1);
    ph.transfers.reserve(s.nranks);
    for (int32_t v = 0; v < nodes; ++v) {
      std::vector<int> next = layout.coords[v];
      next[k] = (next[k] + 1) % e;
      const int32_t w = at[BoxIndex(next, layout.extent)];
      for (int32_t l = 0; l < g; ++l)
        ph.transfers.push_back({v * g + l, w * g + l, share});
    }
    s.phases.push_back(std::move(ph));
  }
  return s;
}

}  // namespace dstrain::topology
