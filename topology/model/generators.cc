#include "topology/model/generators.h"

#include <algorithm>
#include <cmath>

#include "common/strings.h"

namespace dstrain::topology {
namespace {

// Four significant digits, as the cluster summary prints numbers.
std::string Num(double v) { return StrFormat("%.4g", v); }

// Zero-padded names: `node0000`..`node1023`.
std::string PaddedName(const std::string& prefix, int i, int count) {
  const std::string digits = std::to_string(i);
  const size_t width = std::to_string(std::max(count - 1, 0)).size();
  return prefix + std::string(width - std::min(width, digits.size()), '0') +
         digits;
}

// Down and up ports per switch for radix k and oversubscription o.
Status SplitPorts(const char* what, int k, double o, int* down, int* up) {
  if (k < 2) {
    return InvalidArgument(std::string(what) +
                           ": k (switch radix) must be >= 2, got " +
                           std::to_string(k));
  }
  if (!(o >= 1) || !std::isfinite(o)) {
    return InvalidArgument(
        std::string(what) +
        ": oversubscription must be >= 1 (1 = non-blocking), got " + Num(o));
  }
  const double u = k / (1 + o);
  const double u_round = std::round(u);
  if (std::abs(u - u_round) > 1e-9 || u_round < 1) {
    return InvalidArgument(std::string(what) + ": k=" + std::to_string(k) +
                           " with oversubscription " + Num(o) + " gives " +
                           Num(u) +
                           " uplinks per switch; k must be a multiple of "
                           "1+oversubscription (k*o/(1+o) "
                           "ports down, k/(1+o) up)");
  }
  *up = static_cast<int>(u_round);
  *down = k - *up;
  return Status::Ok();
}

Status CheckCommon(const char* what, int hosts, int devices, double nic_bw,
                   double latency) {
  if (hosts < 1) {
    return InvalidArgument(std::string(what) + ": hosts must be >= 1, got " +
                           std::to_string(hosts));
  }
  if (devices < 0) {
    return InvalidArgument(std::string(what) +
                           ": devices_per_host must be >= 0");
  }
  if (!(nic_bw > 0)) {
    return InvalidArgument(std::string(what) + ": bandwidth must be > 0");
  }
  if (!(latency >= 0)) {
    return InvalidArgument(std::string(what) + ": latency must be >= 0");
  }
  return Status::Ok();
}

// The size a generator would build, refused before any of it is: counts
// are 64-bit here, so no option can overflow an int further on.
Status CheckSize(const std::string& what, int64_t vertices, int64_t links) {
  if (vertices <= kMaxGeneratedVertices && links <= kMaxGeneratedLinks) {
    return Status::Ok();
  }
  return InvalidArgument(what + " makes " + std::to_string(vertices) +
                         " hosts and switches and " + std::to_string(links) +
                         " links; a generated cluster has at most " +
                         std::to_string(kMaxGeneratedVertices) + " and " +
                         std::to_string(kMaxGeneratedLinks));
}

// Generators build graphs that are valid by construction; a failing Add*
// is a bug here, so it surfaces as INTERNAL.
#define GEN_ASSIGN(lhs, expr)                                          \
  do {                                                                 \
    auto gen_result_ = (expr);                                         \
    if (!gen_result_.ok())                                             \
      return Internal("generator: " + gen_result_.status().message()); \
    lhs = gen_result_.value();                                         \
  } while (0)

#define GEN_CHECK(expr)                                                \
  do {                                                                 \
    auto gen_result_ = (expr);                                         \
    if (!gen_result_.ok())                                             \
      return Internal("generator: " + gen_result_.status().message()); \
  } while (0)

}  // namespace

StatusOr<Cluster> MakeFatTree(const FatTreeOptions& o) {
  const char* what = "fat-tree";
  DSTRAIN_RETURN_IF_ERROR(CheckCommon(what, o.hosts, o.devices_per_host,
                                      o.nic_bandwidth, o.latency));
  if (o.levels != 2 && o.levels != 3) {
    return InvalidArgument("fat-tree: levels must be 2 or 3, got " +
                           std::to_string(o.levels));
  }
  if (o.nics_per_host < 1) {
    return InvalidArgument("fat-tree: nics_per_host must be >= 1");
  }
  int down = 0, up = 0;
  DSTRAIN_RETURN_IF_ERROR(
      SplitPorts(what, o.k, o.oversubscription, &down, &up));
  if (down % o.nics_per_host != 0) {
    return InvalidArgument(
        "fat-tree: nics_per_host=" + std::to_string(o.nics_per_host) +
        " does not divide the " + std::to_string(down) +
        " down ports of a leaf");
  }
  const int per_leaf = down / o.nics_per_host;
  // Rounding up in 64 bits: hosts and ports near INT_MAX must not wrap.
  const int leaves =
      static_cast<int>((int64_t{o.hosts} + per_leaf - 1) / per_leaf);
  const int pods =
      o.levels == 3 ? static_cast<int>((int64_t{leaves} + down - 1) / down) : 1;
  const int64_t max_hosts =
      o.levels == 2 ? int64_t{o.k} * per_leaf : int64_t{o.k} * down * per_leaf;
  if (o.hosts > max_hosts) {
    return InvalidArgument("fat-tree: " + std::to_string(o.hosts) +
                           " hosts do not fit in " + std::to_string(o.levels) +
                           " levels of radix k=" + std::to_string(o.k) +
                           " (at most " + std::to_string(max_hosts) +
                           "); raise k or use 3 levels");
  }
  const double sw_bw =
      o.switch_bandwidth > 0 ? o.switch_bandwidth : o.nic_bandwidth;
  const int64_t aggs64 = o.levels == 3 ? int64_t{pods} * up : 0;
  const int64_t tops64 = o.levels == 3 ? int64_t{up} * up : up;
  const int64_t links =
      int64_t{o.hosts} * o.nics_per_host + int64_t{leaves} * up + aggs64 * up;
  DSTRAIN_RETURN_IF_ERROR(
      CheckSize("fat-tree: k=" + std::to_string(o.k) + " with " +
                    std::to_string(o.levels) + " levels and " +
                    std::to_string(o.hosts) + " hosts",
                int64_t{o.hosts} + leaves + aggs64 + tops64, links));
  const int aggs = static_cast<int>(aggs64);
  const int tops = static_cast<int>(tops64);  // cores or spines

  Cluster c;
  c.Reserve(o.hosts + leaves + aggs + tops, static_cast<int>(links));
  FabricParams f;
  f.kind = FabricKind::kFatTree;
  f.k = o.k;
  f.levels = o.levels;
  f.oversubscription = o.oversubscription;
  c.set_fabric(f);
  c.set_name("fat-tree k=" + std::to_string(o.k) + " levels=" +
             std::to_string(o.levels) + " hosts=" + std::to_string(o.hosts) +
             " oversubscription=" + Num(o.oversubscription));

  HostInfo info;
  info.devices = o.devices_per_host;
  for (int n = 0; n < o.nics_per_host; ++n) {
    NicInfo nic;
    nic.name = "mlx5_" + std::to_string(n);
    nic.bandwidth = o.nic_bandwidth;
    info.nics.push_back(nic);
  }
  for (int h = 0; h < o.hosts; ++h) {
    GEN_CHECK(c.AddHost(PaddedName(o.host_prefix, h, o.hosts), info));
  }
  const VertexId first_leaf = c.num_vertices();
  for (int l = 0; l < leaves; ++l) {
    GEN_CHECK(c.AddSwitch("leaf" + std::to_string(l), SwitchInfo{0, -1}));
  }
  const VertexId first_agg = c.num_vertices();
  for (int a = 0; a < aggs; ++a) {
    GEN_CHECK(c.AddSwitch("agg" + std::to_string(a), SwitchInfo{1, -1}));
  }
  const VertexId first_top = c.num_vertices();
  for (int t = 0; t < tops; ++t) {
    const std::string name =
        (o.levels == 3 ? "core" : "spine") + std::to_string(t);
    GEN_CHECK(c.AddSwitch(name, SwitchInfo{o.levels - 1, -1}));
  }
  for (int h = 0; h < o.hosts; ++h) {
    const VertexId leaf = first_leaf + h / per_leaf;
    for (int n = 0; n < o.nics_per_host; ++n)
      GEN_CHECK(c.AddLink(h, leaf, o.nic_bandwidth, o.latency, n, -1));
  }
  for (int l = 0; l < leaves; ++l) {
    for (int u = 0; u < up; ++u) {
      // 2 levels: spine u; 3 levels: aggregation switch u of the leaf's pod.
      const VertexId parent =
          o.levels == 2 ? first_top + u : first_agg + (l / down) * up + u;
      GEN_CHECK(c.AddLink(first_leaf + l, parent, sw_bw, o.latency));
    }
  }
  for (int a = 0; a < aggs; ++a) {
    const int j = a % up;  // index within the pod
    for (int m = 0; m < up; ++m)
      GEN_CHECK(
          c.AddLink(first_agg + a, first_top + j * up + m, sw_bw, o.latency));
  }
  return c;
}

StatusOr<Cluster> MakeRailOptimized(const RailOptimizedOptions& o) {
  const char* what = "rail-optimized";
  DSTRAIN_RETURN_IF_ERROR(CheckCommon(what, o.hosts, o.devices_per_host,
                                      o.nic_bandwidth, o.latency));
  if (o.levels != 1 && o.levels != 2) {
    return InvalidArgument("rail-optimized: levels must be 1 or 2, got " +
                           std::to_string(o.levels));
  }
  if (o.rails < 1) return InvalidArgument("rail-optimized: rails must be >= 1");
  int down = 0, up = 0;
  if (o.levels == 1) {
    if (o.k < 1) return InvalidArgument("rail-optimized: k must be >= 1");
    down = o.k;
  } else {
    DSTRAIN_RETURN_IF_ERROR(
        SplitPorts(what, o.k, o.oversubscription, &down, &up));
  }
  const int groups = static_cast<int>((int64_t{o.hosts} + down - 1) / down);
  const int max_groups = o.levels == 1 ? 1 : o.k;
  if (groups > max_groups) {
    return InvalidArgument("rail-optimized: " + std::to_string(o.hosts) +
                           " hosts need " + std::to_string(groups) +
                           " groups of " + std::to_string(down) + "; at most " +
                           std::to_string(max_groups) + " fit with " +
                           std::to_string(o.levels) +
                           " level(s) of radix k=" + std::to_string(o.k));
  }
  const double sw_bw =
      o.switch_bandwidth > 0 ? o.switch_bandwidth : o.nic_bandwidth;
  const int64_t leaves64 = int64_t{groups} * o.rails;
  const int64_t spines64 = o.levels == 2 ? int64_t{o.rails} * up : 0;
  const int64_t links =
      int64_t{o.hosts} * o.rails + (o.levels == 2 ? leaves64 * up : 0);
  DSTRAIN_RETURN_IF_ERROR(CheckSize(
      "rail-optimized: " + std::to_string(o.rails) + " rails of k=" +
          std::to_string(o.k) + " and " + std::to_string(o.hosts) + " hosts",
      int64_t{o.hosts} + leaves64 + spines64, links));
  const int leaves = static_cast<int>(leaves64);
  const int spines = static_cast<int>(spines64);

  Cluster c;
  c.Reserve(o.hosts + leaves + spines, static_cast<int>(links));
  FabricParams f;
  f.kind = FabricKind::kRailOptimized;
  f.k = o.k;
  f.levels = o.levels;
  f.oversubscription = o.levels == 2 ? o.oversubscription : 0;
  f.rails = o.rails;
  c.set_fabric(f);
  c.set_name("rail-optimized k=" + std::to_string(o.k) + " rails=" +
             std::to_string(o.rails) + " hosts=" + std::to_string(o.hosts));

  HostInfo info;
  info.devices = o.devices_per_host;
  for (int r = 0; r < o.rails; ++r) {
    NicInfo nic;
    nic.name = "mlx5_" + std::to_string(r);
    nic.rail = r;
    nic.bandwidth = o.nic_bandwidth;
    info.nics.push_back(nic);
  }
  for (int h = 0; h < o.hosts; ++h)
    GEN_CHECK(c.AddHost(PaddedName(o.host_prefix, h, o.hosts), info));
  const VertexId first_leaf = c.num_vertices();
  for (int g = 0; g < groups; ++g) {
    for (int r = 0; r < o.rails; ++r) {
      GEN_CHECK(
          c.AddSwitch("g" + std::to_string(g) + "-rail" + std::to_string(r),
                      SwitchInfo{0, r}));
    }
  }
  const VertexId first_spine = c.num_vertices();
  for (int r = 0; r < (o.levels == 2 ? o.rails : 0); ++r) {
    for (int m = 0; m < up; ++m) {
      GEN_CHECK(
          c.AddSwitch("rail" + std::to_string(r) + "-spine" + std::to_string(m),
                      SwitchInfo{1, r}));
    }
  }
  for (int h = 0; h < o.hosts; ++h) {
    const int g = h / down;
    for (int r = 0; r < o.rails; ++r) {
      GEN_CHECK(c.AddLink(h, first_leaf + g * o.rails + r, o.nic_bandwidth,
                          o.latency, r, -1));
    }
  }
  if (o.levels == 2) {
    for (int g = 0; g < groups; ++g)
      for (int r = 0; r < o.rails; ++r)
        for (int m = 0; m < up; ++m)
          GEN_CHECK(c.AddLink(first_leaf + g * o.rails + r,
                              first_spine + r * up + m, sw_bw, o.latency));
  }
  return c;
}

StatusOr<Cluster> MakeTorus(const TorusOptions& o) {
  const int dims = static_cast<int>(o.dims.size());
  if (dims < 1 || dims > 4) {
    return InvalidArgument("torus: 1 to 4 dimensions, got " +
                           std::to_string(dims));
  }
  int64_t hosts = 1;
  for (int d : o.dims) {
    if (d < 1) return InvalidArgument("torus: every dimension must be >= 1");
    if (d >= (1 << 15))
      return InvalidArgument("torus: a dimension is too large");
    hosts *= d;
  }
  if (hosts > (1 << 22)) {
    return InvalidArgument("torus: " + std::to_string(hosts) +
                           " hosts is too many");
  }
  DSTRAIN_RETURN_IF_ERROR(CheckCommon("torus", static_cast<int>(hosts),
                                      o.devices_per_host, o.link_bandwidth,
                                      o.latency));
  DSTRAIN_RETURN_IF_ERROR(CheckSize(
      "torus: " + std::to_string(hosts) + " hosts", hosts, hosts * dims));
  Cluster c;
  c.Reserve(static_cast<int>(hosts), static_cast<int>(hosts) * dims);
  FabricParams f;
  f.kind = FabricKind::kTorus;
  f.torus_dims = o.dims;
  f.torus_wrap.assign(dims, o.wraparound);
  c.set_fabric(f);
  std::string shape;
  for (int i = 0; i < dims; ++i)
    shape += (i ? "x" : "") + std::to_string(o.dims[i]);
  c.set_name("torus " + shape + (o.wraparound ? "" : " (mesh)"));

  // Id of the host at coordinates: dimension 0 fastest.
  std::vector<int64_t> stride(dims, 1);
  for (int i = 1; i < dims; ++i) stride[i] = stride[i - 1] * o.dims[i - 1];
  HostInfo info;
  info.devices = o.devices_per_host;
  info.torus_coords.assign(dims, 0);
  for (int64_t id = 0; id < hosts; ++id) {
    std::string name = o.host_prefix;
    for (int i = 0; i < dims; ++i) {
      info.torus_coords[i] = static_cast<int>((id / stride[i]) % o.dims[i]);
      if (i) name += '-';
      name += std::to_string(info.torus_coords[i]);
    }
    GEN_CHECK(c.AddHost(std::move(name), info));
  }
  for (int64_t id = 0; id < hosts; ++id) {
    for (int i = 0; i < dims; ++i) {
      const int size = o.dims[i];
      const int x = static_cast<int>((id / stride[i]) % size);
      if (size == 1) continue;
      if (x + 1 < size) {
        GEN_CHECK(c.AddLink(static_cast<VertexId>(id),
                            static_cast<VertexId>(id + stride[i]),
                            o.link_bandwidth, o.latency));
      } else if (o.wraparound && size > 2) {
        GEN_CHECK(c.AddLink(static_cast<VertexId>(id),
                            static_cast<VertexId>(id - x * stride[i]),
                            o.link_bandwidth, o.latency));
      }
    }
  }
  return c;
}

Status LinkTorusNeighbours(Cluster* c, double bandwidth, double latency) {
  if (c->fabric().kind != FabricKind::kTorus)
    return InvalidArgument("LinkTorusNeighbours: the fabric is not a torus");
  DSTRAIN_RETURN_IF_ERROR(c->Validate());  // coordinates in range and unique
  const FabricParams& f = c->fabric();
  const size_t dims = f.torus_dims.size();
  std::vector<int> next;
  for (VertexId h : c->hosts()) {
    const std::vector<int>& x = c->vertex(h).host.torus_coords;
    for (size_t i = 0; i < dims; ++i) {
      const int size = f.torus_dims[i];
      if (size == 1) continue;
      next = x;
      if (x[i] + 1 < size) {
        next[i] = x[i] + 1;
      } else if (f.torus_wrap[i] && size > 2) {
        next[i] = 0;
      } else {
        continue;
      }
      const VertexId n = c->HostAtCoords(next);
      if (n == kNoVertex) continue;
      DSTRAIN_ASSIGN_OR_RETURN(LinkId l, c->AddLink(h, n, bandwidth, latency));
    }
  }
  return Status::Ok();
}

}  // namespace dstrain::topology
