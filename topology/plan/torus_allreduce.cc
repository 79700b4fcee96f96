#include "topology/plan/torus_allreduce.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace dstrain::topology {
namespace {

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

namespace {

// The node one step along `dim` in `direction` from node v.
int32_t Neighbour(const TorusLayout& layout, const std::vector<int32_t>& at,
                  int32_t v, int dim, int direction) {
  std::vector<int> c = layout.coords[v];
  const int e = layout.extent[dim];
  c[dim] = ((c[dim] + direction) % e + e) % e;
  return at[BoxIndex(c, layout.extent)];
}

// What each rank sends over the whole operation, per byte of message.
double SentPerRank(const TorusLayout& layout, int32_t g) {
  const auto parts = contract::TorusParts(layout.extent);
  if (parts.empty()) return 0;  // a box of one host: nothing to do
  double sent = g > 1 ? 2.0 * (g - 1) / g : 0;
  for (const contract::TorusPart& p : parts) {
    double c = 1.0 / static_cast<double>(parts.size()) / g;
    for (int d : p.order) {
      const int e = layout.extent[d];
      sent += 2.0 * (e - 1) / e * c;
      c /= e;
    }
  }
  return sent;
}

}  // namespace

std::vector<SubCommunicator> TorusCommunicators(const TorusLayout& layout,
                                                int32_t g) {
  std::vector<SubCommunicator> out;
  const int32_t nodes = static_cast<int32_t>(layout.coords.size());
  const int32_t n = nodes * g;
  const size_t nd = layout.extent.size();
  const auto parts = contract::TorusParts(layout.extent);
  for (int k = 0; k < static_cast<int>(parts.size()); ++k) {
    if (g > 1) {
      SubCommunicator local{contract::TorusPartLocalCommName(k),
                            std::vector<int32_t>(n), std::vector<int32_t>(n)};
      for (int32_t r = 0; r < n; ++r) {
        local.color[r] = r / g;
        local.key[r] = r % g;
      }
      out.push_back(std::move(local));
    }
    for (int d : parts[k].order) {
      const int e = layout.extent[d];
      SubCommunicator c{contract::TorusPartCommName(k, d),
                        std::vector<int32_t>(n), std::vector<int32_t>(n)};
      for (int32_t v = 0; v < nodes; ++v) {
        const auto& xyz = layout.coords[v];
        int64_t line = 0;
        for (size_t o = 0; o < nd; ++o)
          if (static_cast<int>(o) != d) line = line * layout.extent[o] + xyz[o];
        // Keys run against the coordinate for the - direction, so the
        // backend's ring (key order) steps the other way round the line.
        const int key = parts[k].direction > 0 ? xyz[d] : (e - xyz[d]) % e;
        for (int32_t l = 0; l < g; ++l) {
          const int32_t r = v * g + l;
          c.color[r] = static_cast<int32_t>(line * g + l);
          c.key[r] = key;
        }
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

Schedule TorusAllReduce(const TorusLayout& layout, int32_t g) {
  Schedule s;
  s.algorithm = "torus";
  const int32_t nodes = static_cast<int32_t>(layout.coords.size());
  s.nranks = nodes * g;
  s.ranks_per_node = g;
  const auto parts = contract::TorusParts(layout.extent);
  if (parts.empty()) return s;
  const std::vector<int32_t> at = NodeAtBox(layout);
  Phase ph;
  ph.kind = PhaseKind::kPipelined;
  ph.name = std::to_string(parts.size()) +
            " parts at once, one per dimension and direction";
  // Per rank, what it sends to each destination (merged over parts and
  // levels: the simulator charges the sum the same way).
  std::vector<std::vector<Transfer>> out(s.nranks);
  auto add = [&](int32_t src, int32_t dst, double fraction) {
    for (Transfer& t : out[src]) {
      if (t.dst == dst) {
        t.fraction += fraction;
        return;
      }
    }
    out[src].push_back({src, dst, fraction});
  };
  const double share = 1.0 / static_cast<double>(parts.size());
  for (const contract::TorusPart& p : parts) {
    if (g > 1) {
      for (int32_t v = 0; v < nodes; ++v)
        for (int32_t l = 0; l < g; ++l)
          add(v * g + l, v * g + (l + 1) % g, 2.0 * (g - 1) / g * share);
    }
    double c = share / g;  // per rank, entering the level
    for (int d : p.order) {
      const int e = layout.extent[d];
      for (int32_t v = 0; v < nodes; ++v) {
        const int32_t w = Neighbour(layout, at, v, d, p.direction);
        for (int32_t l = 0; l < g; ++l)
          add(v * g + l, w * g + l, 2.0 * (e - 1) / e * c);
      }
      c /= e;
    }
  }
  for (auto& list : out)
    for (const Transfer& t : list) ph.transfers.push_back(t);
  // The fill: one chunk through every hop of a part, at most what one
  // step of a part's first ring moves.
  ph.host_hops = g > 1 ? 2 * (g - 1) : 0;
  for (int d : parts.front().order) ph.net_hops += 2 * (layout.extent[d] - 1);
  ph.chunk_fraction = share / g / layout.extent[parts.front().order[0]];
  s.phases.push_back(std::move(ph));
  return s;
}

Status ValidateTorusAllReduce(const TorusLayout& layout, int32_t g,
                              const Schedule& s) {
  const int32_t nodes = static_cast<int32_t>(layout.coords.size());
  if (s.nranks != nodes * g)
    return InvalidArgument("torus schedule over " + std::to_string(s.nranks) +
                           " ranks for " + std::to_string(nodes * g));
  std::vector<double> sent(s.nranks, 0);
  for (const Phase& ph : s.phases) {
    for (const Transfer& t : ph.transfers) {
      const std::string hop =
          "transfer " + std::to_string(t.src) + " -> " + std::to_string(t.dst);
      const int32_t a = t.src / g, b = t.dst / g;
      if (a == b) {
        if (t.dst % g != (t.src % g + 1) % g)
          return InvalidArgument(hop + " is not to the next local rank");
      } else {
        if (t.src % g != t.dst % g)
          return InvalidArgument(hop + " changes local rank between hosts");
        int differ = 0;
        bool neighbour = true;
        for (size_t d = 0; d < layout.extent.size(); ++d) {
          const int e = layout.extent[d];
          const int delta =
              ((layout.coords[b][d] - layout.coords[a][d]) % e + e) % e;
          if (delta == 0) continue;
          ++differ;
          neighbour = neighbour && (delta == 1 || delta == e - 1);
        }
        if (differ != 1 || !neighbour)
          return InvalidArgument(hop + " is not between box neighbours");
      }
      sent[t.src] += t.fraction * static_cast<double>(ph.steps);
    }
  }
  const double want = SentPerRank(layout, g);
  for (int32_t r = 0; r < s.nranks; ++r) {
    if (std::abs(sent[r] - want) > 1e-9 * std::max(1.0, want))
      return InvalidArgument("rank " + std::to_string(r) + " sends " +
                             std::to_string(sent[r]) + " of the message, not " +
                             std::to_string(want));
  }
  return Status::Ok();
}

}  // namespace dstrain::topology
