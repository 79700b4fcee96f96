#include "topology/sim/simulator.h"

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace dstrain::topology {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The rail of a host port: its leaf's rail, else its NIC's, else -1.
int PortRail(const Cluster& c, VertexId host, LinkId link) {
  const Link& l = c.link(link);
  const VertexId sw = l.Other(host);
  if (c.IsSwitch(sw) && c.vertex(sw).sw.rail >= 0) return c.vertex(sw).sw.rail;
  const int nic = l.a == host ? l.nic_a : l.nic_b;
  if (nic >= 0) return c.vertex(host).host.nics[nic].rail;
  return -1;
}

// Per-direction loads of one phase, reset sparsely between phases.
struct Loads {
  std::vector<double> link;      // [2 * link + dir]
  std::vector<int32_t> touched;  // link directions with load
  std::vector<double> port_out;  // per rank
  std::vector<double> port_in;
  std::vector<int32_t> ports_touched;

  void AddLink(int32_t d, double bytes) {
    if (link[d] == 0) touched.push_back(d);
    link[d] += bytes;
  }
  void AddPort(int32_t src, int32_t dst, double bytes) {
    if (port_out[src] == 0 && port_in[src] == 0) ports_touched.push_back(src);
    port_out[src] += bytes;
    if (port_out[dst] == 0 && port_in[dst] == 0) ports_touched.push_back(dst);
    port_in[dst] += bytes;
  }
  void Clear() {
    for (int32_t d : touched) link[d] = 0;
    for (int32_t r : ports_touched) port_out[r] = port_in[r] = 0;
    touched.clear();
    ports_touched.clear();
  }
};

struct CachedRoute {
  VertexId src = kNoVertex;
  VertexId dst = kNoVertex;
  int dst_port = -1;
  std::vector<Hop> hops;
  double latency = 0;
  double bandwidth = 0;
  double pending = 0;  // bytes not yet charged to `hops`

  void Flush(Loads* loads) {
    if (pending > 0)
      for (const Hop& h : hops) loads->AddLink(h.direction(), pending);
    pending = 0;
  }
};

std::string HostPortName(const Cluster& c, const RankMap& m, int32_t rank,
                         bool out) {
  return c.vertex(m.host[rank]).name + "/rank " + std::to_string(rank) +
         (out ? " out" : " in");
}

}  // namespace

RankMap RankMapFor(std::span<const VertexId> hosts, int32_t g) {
  RankMap m;
  const size_t n = hosts.size() * static_cast<size_t>(std::max(g, 1));
  m.host.reserve(n);
  m.local.reserve(n);
  for (VertexId h : hosts) {
    for (int32_t l = 0; l < g; ++l) {
      m.host.push_back(h);
      m.local.push_back(l);
    }
  }
  return m;
}

double PhaseCost::Seconds(double bytes, double chunk_bytes) const {
  if (kind == PhaseKind::kSteps)
    return static_cast<double>(steps) * (latency + bytes * seconds_per_byte);
  const double chunk = std::min(chunk_bytes, chunk_fraction * bytes);
  double t = bytes * seconds_per_byte;
  if (host_hops > 0)
    t += host_hops * (host_latency + chunk / host_chunk_bandwidth);
  if (net_hops > 0) t += net_hops * (net_latency + chunk / net_chunk_bandwidth);
  return t;
}

double CostCurve::Seconds(double bytes) const {
  double t = 0;
  for (const PhaseCost& p : phases) t += p.Seconds(bytes, chunk_bytes);
  return t;
}

StatusOr<CostCurve> Simulate(const Cluster& cluster, const Router& router,
                             const RankMap& ranks, const Schedule& schedule,
                             const SimOptions& options) {
  const int32_t n = static_cast<int32_t>(ranks.host.size());
  if (static_cast<int32_t>(ranks.local.size()) != n)
    return InvalidArgument("rank map: host and local lists differ in length");
  if (schedule.nranks > n) {
    return InvalidArgument("schedule `" + schedule.algorithm + "` has " +
                           std::to_string(schedule.nranks) +
                           " ranks; the placement has " + std::to_string(n));
  }
  if (!(options.host_bandwidth > 0))
    return InvalidArgument("host bandwidth must be > 0");
  CostCurve curve;
  curve.algorithm = schedule.algorithm;
  curve.nranks = schedule.nranks;
  curve.chunk_bytes = options.pipeline_chunk_bytes;

  const int32_t ndir = 2 * cluster.num_links();
  Loads loads;
  loads.link.assign(ndir, 0);
  loads.port_out.assign(n, 0);
  loads.port_in.assign(n, 0);
  // Totals over the collective: per message byte.
  std::vector<double> link_bytes(ndir, 0), link_busy(ndir, 0);
  std::vector<double> port_bytes(2 * static_cast<size_t>(n), 0),
      port_busy(2 * static_cast<size_t>(n), 0);

  std::vector<CachedRoute> cache;  // per stripe
  for (const Phase& phase : schedule.phases) {
    PhaseCost cost;
    cost.name = phase.name;
    cost.kind = phase.kind;
    cost.steps = phase.steps;
    cost.host_hops = phase.host_hops;
    cost.net_hops = phase.net_hops;
    cost.chunk_fraction = phase.chunk_fraction;
    cost.host_chunk_bandwidth = options.host_bandwidth;
    double host_lat = 0, net_lat = 0, net_bw = kInf;
    for (const Transfer& t : phase.transfers) {
      if (t.src < 0 || t.src >= n || t.dst < 0 || t.dst >= n) {
        return InvalidArgument("phase `" + phase.name + "` sends " +
                               std::to_string(t.src) + " -> " +
                               std::to_string(t.dst) + " outside ranks 0.." +
                               std::to_string(n - 1));
      }
      if (t.src == t.dst || t.fraction <= 0) continue;
      const VertexId ha = ranks.host[t.src], hb = ranks.host[t.dst];
      if (ha == hb) {
        loads.AddPort(t.src, t.dst, t.fraction);
        host_lat =
            std::max(host_lat, options.message_overhead + options.host_latency);
        continue;
      }
      const auto& pa = router.Ports(ha);
      const auto& pb = router.Ports(hb);
      const int stripes =
          pa.empty() || pb.empty() ? 1 : static_cast<int>(pa.size());
      double total_bw = 0;
      if (stripes > 1)
        for (LinkId l : pa) total_bw += cluster.link(l).bandwidth;
      double flow_bw = 0;
      for (int i = 0; i < stripes; ++i) {
        int j = 0;
        double share = 1;
        if (!pa.empty() && !pb.empty()) {
          share = stripes > 1 ? cluster.link(pa[i]).bandwidth / total_bw : 1;
          const int nb = static_cast<int>(pb.size());
          j = ((i + ranks.local[t.dst] - ranks.local[t.src]) % nb + nb) % nb;
          if (options.rail_aligned) {
            const int rail = PortRail(cluster, ha, pa[i]);
            j = i % nb;
            if (rail >= 0) {
              for (int k = 0; k < nb; ++k) {
                if (PortRail(cluster, hb, pb[k]) == rail) {
                  j = k;
                  break;
                }
              }
            }
          }
        }
        // Ranks of one host usually talk to the same host next: reuse the
        // stripe's last route when its endpoints repeat.
        if (static_cast<int>(cache.size()) <= i) cache.resize(i + 1);
        CachedRoute& route = cache[i];
        if (route.src != ha || route.dst != hb || route.dst_port != j) {
          route.Flush(&loads);
          route.hops.clear();
          Status routed = router.Route(ha, i, hb, j, &route.hops);
          if (!routed.ok() && !pb.empty()) {
            // Separate rail planes: NCCL's PXN moves the data inside the
            // receiving host to the NIC of the sender's rail (an intra-host
            // copy, not charged), and the network part stays on one rail.
            const int rail = PortRail(cluster, ha, pa[i]);
            for (int k = 0; k < static_cast<int>(pb.size()); ++k) {
              if (rail >= 0 && PortRail(cluster, hb, pb[k]) == rail) {
                route.hops.clear();
                routed = router.Route(ha, i, hb, k, &route.hops);
                break;
              }
            }
          }
          DSTRAIN_RETURN_IF_ERROR(routed);
          route.src = ha;
          route.dst = hb;
          route.dst_port = j;
          route.latency = options.message_overhead;
          route.bandwidth = kInf;
          for (const Hop& h : route.hops) {
            const Link& l = cluster.link(h.link);
            route.latency += l.latency;
            route.bandwidth = std::min(route.bandwidth, l.bandwidth);
          }
        }
        route.pending += t.fraction * share;
        net_lat = std::max(net_lat, route.latency);
        flow_bw += route.bandwidth;
      }
      net_bw = std::min(net_bw, flow_bw);
    }
    for (CachedRoute& route : cache) {
      route.Flush(&loads);
      route.src = kNoVertex;  // routes are not reused across phases
    }
    // The phase's bottleneck and the collective's totals.
    const double weight =
        phase.kind == PhaseKind::kSteps ? static_cast<double>(phase.steps) : 1;
    double worst = 0;
    int32_t worst_dir = -1, worst_port = -1;
    bool worst_out = true;
    for (int32_t d : loads.touched) {
      const double s = loads.link[d] / cluster.link(d / 2).bandwidth;
      link_bytes[d] += weight * loads.link[d];
      link_busy[d] += weight * s;
      if (s > worst) {
        worst = s;
        worst_dir = d;
      }
    }
    for (int32_t r : loads.ports_touched) {
      for (bool out : {true, false}) {
        const double b = out ? loads.port_out[r] : loads.port_in[r];
        const double s = b / options.host_bandwidth;
        const size_t idx = 2 * static_cast<size_t>(r) + (out ? 0 : 1);
        port_bytes[idx] += weight * b;
        port_busy[idx] += weight * s;
        if (s > worst) {
          worst = s;
          worst_dir = -1;
          worst_port = r;
          worst_out = out;
        }
      }
    }
    cost.seconds_per_byte = worst;
    if (worst_dir >= 0) {
      const Link& l = cluster.link(worst_dir / 2);
      const bool fwd = worst_dir % 2 == 0;
      cost.hottest = LinkUse{cluster.vertex(fwd ? l.a : l.b).name,
                             cluster.vertex(fwd ? l.b : l.a).name, false,
                             loads.link[worst_dir], worst};
    } else if (worst_port >= 0) {
      cost.hottest = LinkUse{
          HostPortName(cluster, ranks, worst_port, worst_out), "", true,
          worst_out ? loads.port_out[worst_port] : loads.port_in[worst_port],
          worst};
    }
    if (phase.kind == PhaseKind::kSteps) {
      cost.latency = std::max(host_lat, net_lat);
    } else {
      cost.host_latency = host_lat > 0
                              ? host_lat
                              : options.message_overhead + options.host_latency;
      cost.net_latency = net_lat;
      cost.net_chunk_bandwidth =
          net_bw == kInf ? options.host_bandwidth : net_bw;
    }
    curve.phases.push_back(std::move(cost));
    loads.Clear();
  }
  // The busiest link of the whole collective.
  double best = -1;
  for (int32_t d = 0; d < ndir; ++d) {
    if (link_busy[d] > best && link_busy[d] > 0) {
      best = link_busy[d];
      const Link& l = cluster.link(d / 2);
      const bool fwd = d % 2 == 0;
      curve.hottest = LinkUse{cluster.vertex(fwd ? l.a : l.b).name,
                              cluster.vertex(fwd ? l.b : l.a).name, false,
                              link_bytes[d], link_busy[d]};
    }
  }
  for (size_t i = 0; i < port_busy.size(); ++i) {
    if (port_busy[i] > best && port_busy[i] > 0) {
      best = port_busy[i];
      curve.hottest = LinkUse{
          HostPortName(cluster, ranks, static_cast<int32_t>(i / 2), i % 2 == 0),
          "", true, port_bytes[i], port_busy[i]};
    }
  }
  return curve;
}

FabricCapacity FabricCapacityFor(const Cluster& cluster, const RankMap& ranks,
                                 const SimOptions& options) {
  FabricCapacity f;
  f.ranks = static_cast<int64_t>(ranks.host.size());
  std::unordered_map<VertexId, int64_t> per_host;
  for (VertexId h : ranks.host) ++per_host[h];
  f.hosts = static_cast<int64_t>(per_host.size());
  f.min_host_bandwidth = kInf;
  for (const auto& [h, count] : per_host) {
    double bw = 0;
    for (const Adjacent& adj : cluster.neighbors(h))
      bw += cluster.link(adj.link).bandwidth;
    f.network_bandwidth += bw;
    f.min_host_bandwidth = std::min(f.min_host_bandwidth, bw);
    if (count > 1) {
      f.rank_port_bandwidth = options.host_bandwidth;
      f.intra_bandwidth += static_cast<double>(count) * options.host_bandwidth;
    }
  }
  if (f.min_host_bandwidth == kInf) f.min_host_bandwidth = 0;
  return f;
}

Prediction Predict(const CostCurve& curve, Collective collective, double bytes,
                   const FabricCapacity& capacity) {
  Prediction p;
  p.bytes = bytes;
  p.seconds = curve.Seconds(bytes);
  p.algbw = AlgBandwidth(bytes, p.seconds);
  p.busbw = BusBandwidth(collective, curve.nranks, bytes, p.seconds);
  p.lower_bound_seconds = CollectiveLowerBound(collective, capacity, bytes);
  p.hottest = curve.hottest;
  p.hottest_utilization =
      p.seconds > 0 ? curve.hottest.busy_seconds_per_byte * bytes / p.seconds
                    : 0;
  return p;
}

}  // namespace dstrain::topology
