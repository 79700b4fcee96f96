#include "cli/topo/topo.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/topo/topo_bisection.h"
#include "cli/topo/topo_cluster_arg.h"
#include "cli/topo/topo_dot.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/text_table.h"
#include "common/units.h"
#include "topology/io/hostlist.h"
#include "topology/model/summary.h"
#include "topology/planner/planner.h"
#include "topology/sim/cost_model.h"
#include "topology/sim/simulator.h"
#include "worker/comm/bench/size_sweep.h"

namespace dstrain::cli {
namespace {

using namespace dstrain::topology;

constexpr const char* kWhat = "dstrain topo";
// Per-rank arrays (ranks, colours, keys) go into --json up to this size.
constexpr int kMaxJsonRanks = 4096;
// Rank-order runs printed before "... N more".
constexpr int kMaxRuns = 32;

int Fail(const Status& s) {
  std::fprintf(stderr, "%s: %s\n", kWhat, s.message().c_str());
  return 2;
}

// A table's GB/s column (nccl-tests' GB = 1e9 bytes); its title says so.
std::string GBps(double bytes_per_s) {
  return StrFormat("%.2f", bytes_per_s / 1e9);
}

// JSON bandwidths, in the unit their keys name (`_gb_per_s`).
double GBperS(double bytes_per_s) { return bytes_per_s / 1e9; }

std::string Bytes(int64_t b) {
  if (b < 0) return "-";
  const std::string exact = FormatByteSize(b);
  // A crossover found by bisection is rarely round: say it both ways.
  const bool plain_bytes =
      exact.size() > 2 && exact.compare(exact.size() - 2, 2, " B") == 0;
  if (b >= kKiB && plain_bytes)
    return exact + " (" + ApproxBinaryBytes(b) + ")";
  return exact;
}

// Short algorithm names as the tables print them, spelt out below them.
std::string AlgorithmLegend(const std::set<Algorithm>& used) {
  std::string out;
  auto add = [&](Algorithm a, const char* what) {
    if (!used.count(a)) return;
    out +=
        std::string(out.empty() ? "" : "; ") + AlgorithmName(a) + ": " + what;
  };
  add(Algorithm::kRecursiveHalvingDoubling,
      "recursive halving-doubling (reduce-scatter by halving, all-gather by "
      "doubling)");
  add(Algorithm::kDoubleBinaryTree, "NCCL's double binary tree, pipelined");
  add(Algorithm::kHierarchical,
      "a ring inside each host, then one ring per local rank across hosts");
  add(Algorithm::kTorus,
      "parts on every dimension and direction at once, rings along the "
      "torus lines");
  return out;
}

std::string LinkName(const LinkUse& l) {
  if (l.from.empty()) return "-";
  return l.from + " -> " + l.to;
}

// ---- the allocation ---------------------------------------------------

struct Setup {
  Cluster cluster;
  std::vector<VertexId> hosts;  // the allocation, in name order
  PlanOptions options;
};

StatusOr<Setup> Prepare(const TopoOptions& o) {
  Setup s;
  DSTRAIN_ASSIGN_OR_RETURN(Cluster cluster,
                           LoadClusterArg(o.cluster, o.devices));
  s.cluster = std::move(cluster);
  if (!o.nodes.empty() && o.num_nodes > 0)
    return InvalidArgument("--nodes and --num-nodes exclude each other");
  if (o.num_nodes < 0) return InvalidArgument("--num-nodes must be >= 1");
  if (!o.nodes.empty()) {
    StatusOr<std::vector<std::string>> names = ExpandHostList(o.nodes);
    if (!names.ok())
      return InvalidArgument("--nodes: " + names.status().message());
    StatusOr<std::vector<VertexId>> ids = ResolveHosts(s.cluster, *names);
    if (!ids.ok()) return InvalidArgument("--nodes: " + ids.status().message());
    s.hosts = *ids;
  } else {
    s.hosts = s.cluster.hosts();
    if (s.hosts.empty())
      return InvalidArgument("cluster `" + s.cluster.name() + "` has no hosts");
    if (o.num_nodes > static_cast<int>(s.hosts.size())) {
      return InvalidArgument("--num-nodes " + std::to_string(o.num_nodes) +
                             ": the cluster has " +
                             std::to_string(s.hosts.size()) + " hosts");
    }
  }
  // Name order (natural: node2 < node10), what a launcher hands out.
  DSTRAIN_ASSIGN_OR_RETURN(Placement by_name,
                           Place(s.cluster, s.hosts, PlacementKind::kHostname));
  s.hosts = by_name.hosts;
  if (o.num_nodes > 0) s.hosts.resize(o.num_nodes);

  if (o.procs_per_node < 0)
    return InvalidArgument("--procs-per-node must be >= 1");
  s.options.ranks_per_node = o.procs_per_node;
  StatusOr<std::optional<Algorithm>> algorithm =
      ParseAlgorithmChoice(o.algorithm);
  if (!algorithm.ok())
    return InvalidArgument("--algorithm: " + algorithm.status().message());
  s.options.algorithm = *algorithm;
  StatusOr<PlacementKind> placement = ParsePlacementKind(o.placement);
  if (!placement.ok())
    return InvalidArgument("--placement: " + placement.status().message());
  s.options.placement = *placement;
  s.options.seed = o.seed;
  return s;
}

// A plan with its curves: one per applicable algorithm.
struct Evaluated {
  std::string order;  // "plan", "hostname", "random"
  Plan plan;
  std::vector<AlgorithmCurve> curves;
  FabricCapacity capacity;  // for the lower bound

  const CostCurve* Curve(Algorithm a) const {
    for (const auto& c : curves)
      if (c.algorithm == a) return &c.curve;
    return nullptr;
  }
  const CostCurve* CurveFor(int64_t bytes) const {
    return Curve(plan.AlgorithmFor(bytes));
  }
};

StatusOr<Evaluated> Evaluate(const Setup& s, PlacementKind kind,
                             const char* order) {
  PlanOptions options = s.options;
  if (kind != PlacementKind::kAuto) options.placement = kind;
  DSTRAIN_ASSIGN_OR_RETURN(Plan plan, BuildPlan(s.cluster, s.hosts, options));
  DSTRAIN_ASSIGN_OR_RETURN(Router router, Router::Create(s.cluster));
  Evaluated e;
  e.order = order;
  e.plan = std::move(plan);
  const SimOptions sim = SimOptionsFor(e.plan, options.sim);
  std::vector<Algorithm> only;
  if (options.algorithm) only.push_back(*options.algorithm);
  DSTRAIN_ASSIGN_OR_RETURN(
      std::vector<AlgorithmCurve> curves,
      EvaluateAlgorithms(s.cluster, router, e.plan, sim, only));
  e.curves = std::move(curves);
  e.capacity = FabricCapacityFor(
      s.cluster, RankMapFor(e.plan.placement.hosts, e.plan.ranks_per_node),
      sim);
  return e;
}

// What the lower bound is made of, for the text reports' headers.
std::string DescribeBound(const FabricCapacity& f) {
  std::string out =
      "lower bound: 2(H-1) x S across the network of H = " +
      std::to_string(f.hosts) + " hosts (" +
      FormatBandwidth(f.network_bandwidth / std::max<int64_t>(f.hosts, 1)) +
      " a host on average, " + FormatBandwidth(f.min_host_bandwidth) +
      " the least)";
  if (f.rank_port_bandwidth > 0) {
    out += ", 2(n-1) x S out of n = " + std::to_string(f.ranks) + " ranks (" +
           FormatBandwidth(f.rank_port_bandwidth) + " a rank inside a host)";
  }
  return out + "; no algorithm beats the larger";
}

void WriteCapacityJson(JsonWriter& w, const FabricCapacity& f) {
  w.Key("capacity")
      .BeginObject()
      .Key("hosts")
      .Int(f.hosts)
      .Key("ranks")
      .Int(f.ranks)
      .Key("network_gb_per_s")
      .Number(f.network_bandwidth / 1e9)
      .Key("min_host_network_gb_per_s")
      .Number(f.min_host_bandwidth / 1e9)
      .Key("rank_port_gb_per_s")
      .Number(f.rank_port_bandwidth / 1e9)
      .EndObject();
}

// ---- rank order as runs of hosts -------------------------------------

struct Run {
  std::string group;  // "leaf0", "row y=1", "hosts"
  std::vector<std::string> hosts;
  int first_rank = 0;
  int last_rank = 0;
};

std::string GroupOf(const Cluster& c, VertexId h) {
  const HostInfo& info = c.vertex(h).host;
  if (c.fabric().kind == FabricKind::kTorus && info.torus_coords.size() > 1) {
    static const char* kAxes[] = {"x", "y", "z", "w"};
    std::string row = "row";
    for (std::size_t d = 1; d < info.torus_coords.size() && d < 4; ++d)
      row += std::string(d == 1 ? " " : ",") + kAxes[d] + "=" +
             std::to_string(info.torus_coords[d]);
    return row;
  }
  const VertexId leaf = c.LeafOf(h);
  return leaf == kNoVertex ? "hosts" : c.vertex(leaf).name;
}

std::vector<Run> Runs(const Cluster& c, const Plan& plan) {
  std::vector<Run> runs;
  const int g = plan.ranks_per_node;
  for (std::size_t i = 0; i < plan.placement.hosts.size(); ++i) {
    const VertexId h = plan.placement.hosts[i];
    const std::string group = GroupOf(c, h);
    if (runs.empty() || runs.back().group != group) {
      runs.push_back(Run{group, {}, static_cast<int>(i) * g, 0});
    }
    runs.back().hosts.push_back(c.vertex(h).name);
    runs.back().last_rank = static_cast<int>(i + 1) * g - 1;
  }
  return runs;
}

std::string RankRange(int a, int b) {
  return a == b ? std::to_string(a)
                : std::to_string(a) + "-" + std::to_string(b);
}

// Sizes of the groups of a sub-communicator: "4 groups of 2".
std::string GroupSizes(const SubCommunicator& sc) {
  std::map<int, int> size;  // colour -> members
  int none = 0;
  for (int32_t col : sc.color) {
    if (col < 0) {
      ++none;
    } else {
      ++size[col];
    }
  }
  std::map<int, int> count;  // members -> groups
  for (const auto& [col, n] : size) ++count[n];
  std::string out;
  for (auto it = count.rbegin(); it != count.rend(); ++it) {
    if (!out.empty()) out += ", ";
    out += std::to_string(it->second) +
           (it->second == 1 ? " group of " : " groups of ") +
           std::to_string(it->first);
  }
  if (none > 0) out += ", " + std::to_string(none) + " ranks in none";
  return out;
}

// Rank 0's group, in key order: "0 2 4 6".
std::string FirstGroup(const SubCommunicator& sc) {
  if (sc.color.empty() || sc.color[0] < 0) return "-";
  std::vector<std::pair<int, int>> members;  // (key, rank)
  for (std::size_t r = 0; r < sc.color.size(); ++r)
    if (sc.color[r] == sc.color[0]) members.emplace_back(sc.key[r], r);
  std::sort(members.begin(), members.end());
  std::string out;
  const std::size_t shown = std::min<std::size_t>(members.size(), 8);
  for (std::size_t i = 0; i < shown; ++i)
    out += (i ? " " : "") + std::to_string(members[i].second);
  if (shown < members.size()) out += " ...";
  return out;
}

// ---- show ------------------------------------------------------------

int RunShow(const TopoOptions& o, const Setup& s) {
  StatusOr<Placement> placement =
      Place(s.cluster, s.hosts, s.options.placement, s.options.seed);
  if (!placement.ok()) return Fail(placement.status());
  if (o.dot) {
    StatusOr<std::string> dot = FabricDot(s.cluster, placement->hosts);
    if (!dot.ok()) return Fail(dot.status());
    std::fputs(dot->c_str(), stdout);
    return 0;
  }
  const ClusterSummary sum = Summarize(s.cluster);
  const double bisection = BisectionBandwidth(s.cluster, placement->hosts);
  // Full bisection: what the smaller half's hosts could send at once.
  double host_bw_half = 0;
  {
    std::vector<double> bw;
    for (VertexId h : placement->hosts) {
      double b = 0;
      for (const Adjacent& a : s.cluster.neighbors(h))
        if (s.cluster.IsSwitch(a.neighbor))
          b += s.cluster.link(a.link).bandwidth;
      if (b == 0)
        for (const Adjacent& a : s.cluster.neighbors(h))
          b += s.cluster.link(a.link).bandwidth;
      bw.push_back(b);
    }
    for (std::size_t i = 0; i < bw.size() / 2; ++i) host_bw_half += bw[i];
  }
  if (o.json) {
    JsonWriter w;
    w.BeginObject();
    w.Key("name").String(sum.name);
    w.Key("kind").String(FabricKindName(sum.kind));
    w.Key("hosts").Int(sum.hosts);
    w.Key("devices").Int(sum.devices);
    w.Key("min_devices_per_host").Int(sum.min_devices_per_host);
    w.Key("max_devices_per_host").Int(sum.max_devices_per_host);
    w.Key("nics").Int(sum.nics);
    w.Key("switches").Int(sum.switches);
    w.Key("links").Int(sum.links);
    w.Key("min_link_gb_per_s").Number(GBperS(sum.min_link_bandwidth));
    w.Key("max_link_gb_per_s").Number(GBperS(sum.max_link_bandwidth));
    w.Key("min_latency_s").Number(sum.min_latency);
    w.Key("max_latency_s").Number(sum.max_latency);
    w.Key("levels").BeginArray();
    for (const LevelSummary& l : sum.levels) {
      w.BeginObject()
          .Key("level")
          .Int(l.level)
          .Key("switches")
          .Int(l.switches)
          .Key("max_down_ports")
          .Int(l.max_down_ports)
          .Key("max_up_ports")
          .Int(l.max_up_ports)
          .Key("oversubscription")
          .Number(l.max_oversubscription)
          .EndObject();
    }
    w.EndArray();
    w.Key("torus_dims").BeginArray();
    for (int d : sum.torus_dims) w.Int(d);
    w.EndArray();
    w.Key("components").Int(sum.components);
    w.Key("placement").String(placement->method);
    if (bisection >= 0) {
      w.Key("bisection_gb_per_s").Number(GBperS(bisection));
      w.Key("full_bisection_gb_per_s").Number(GBperS(host_bw_half));
    } else {
      w.Key("bisection_gb_per_s").Null();
    }
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  std::fputs(FormatSummary(sum).c_str(), stdout);
  if (bisection >= 0) {
    std::printf(
        "bisection: %s across the halves of the %s order (%s of "
        "full bisection %s)\n",
        FormatBandwidth(bisection).c_str(), placement->method.c_str(),
        host_bw_half > 0 ? (std::to_string(static_cast<int>(
                                std::lround(100 * bisection / host_bw_half))) +
                            "%")
                               .c_str()
                         : "-",
        FormatBandwidth(host_bw_half).c_str());
  }
  return 0;
}

// ---- plan ------------------------------------------------------------

void WriteRunsJson(JsonWriter& w, const std::vector<Run>& runs) {
  w.Key("rank_order").BeginArray();
  for (const Run& r : runs) {
    w.BeginObject()
        .Key("group")
        .String(r.group)
        .Key("hosts")
        .String(CompressHostList(r.hosts))
        .Key("first_rank")
        .Int(r.first_rank)
        .Key("last_rank")
        .Int(r.last_rank)
        .EndObject();
  }
  w.EndArray();
}

void WritePlanJson(JsonWriter& w, const Cluster& c, const Plan& plan) {
  w.Key("cluster").String(plan.cluster);
  w.Key("hosts").Int(static_cast<int64_t>(plan.placement.hosts.size()));
  w.Key("ranks_per_node").Int(plan.ranks_per_node);
  w.Key("world_size").Int(plan.world_size());
  w.Key("placement").String(plan.placement.method);
  if (plan.placement.non_neighbor_hops >= 0)
    w.Key("non_neighbor_hops").Int(plan.placement.non_neighbor_hops);
  WriteRunsJson(w, Runs(c, plan));
  const bool full = plan.world_size() <= kMaxJsonRanks;
  if (full) {
    w.Key("ranks").BeginArray();
    for (const RankSlot& slot : plan.ranks) {
      w.BeginObject()
          .Key("rank")
          .Int(slot.rank)
          .Key("host")
          .String(slot.node_id)
          .Key("local_rank")
          .Int(slot.local_rank)
          .EndObject();
    }
    w.EndArray();
  }
  w.Key("communicators").BeginArray();
  for (const SubCommunicator& sc : plan.communicators) {
    w.BeginObject().Key("name").String(sc.name);
    w.Key("groups").String(GroupSizes(sc));
    if (full) {
      w.Key("color").BeginArray();
      for (int32_t v : sc.color) w.Int(v);
      w.EndArray();
      w.Key("key").BeginArray();
      for (int32_t v : sc.key) w.Int(v);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("algorithms").BeginArray();
  for (const AlgorithmRange& r : plan.algorithms) {
    w.BeginObject()
        .Key("min_bytes")
        .Int(r.min_bytes)
        .Key("max_bytes")
        .Int(r.max_bytes)
        .Key("algorithm")
        .String(AlgorithmName(r.algorithm))
        .EndObject();
  }
  w.EndArray();
  w.Key("env").BeginObject();
  for (const auto& [k, v] : plan.env) w.Key(k).String(v);
  w.EndObject();
}

int RunPlan(const TopoOptions& o, const Setup& s) {
  StatusOr<std::vector<int64_t>> sizes =
      comm::bench::SweepSizesFromFlags(o.min_bytes, o.max_bytes);
  if (!sizes.ok()) return Fail(sizes.status());
  StatusOr<Evaluated> plan = Evaluate(s, PlacementKind::kAuto, "plan");
  if (!plan.ok()) return Fail(plan.status());
  if (o.dot) {
    StatusOr<std::string> dot =
        FabricDot(s.cluster, plan->plan.placement.hosts);
    if (!dot.ok()) return Fail(dot.status());
    std::fputs(dot->c_str(), stdout);
    return 0;
  }
  StatusOr<Evaluated> by_name =
      Evaluate(s, PlacementKind::kHostname, "hostname");
  if (!by_name.ok()) return Fail(by_name.status());
  StatusOr<Evaluated> random = Evaluate(s, PlacementKind::kRandom, "random");
  if (!random.ok()) return Fail(random.status());
  const Evaluated* orders[] = {&*plan, &*by_name, &*random};
  const int n = plan->plan.world_size();

  if (o.json) {
    JsonWriter w;
    w.BeginObject();
    WritePlanJson(w, s.cluster, plan->plan);
    WriteCapacityJson(w, plan->capacity);
    w.Key("predictions").BeginArray();
    for (int64_t b : *sizes) {
      w.BeginObject().Key("bytes").Int(b);
      w.Key("lower_bound_s")
          .Number(CollectiveLowerBound(Collective::kAllReduce, plan->capacity,
                                       static_cast<double>(b)));
      for (const Evaluated* e : orders) {
        const CostCurve* c = e->CurveFor(b);
        const Prediction p =
            Predict(*c, Collective::kAllReduce, b, e->capacity);
        w.Key(e->order).BeginObject();
        w.Key("algorithm").String(AlgorithmName(e->plan.AlgorithmFor(b)));
        w.Key("seconds").Number(p.seconds);
        w.Key("busbw_gb_per_s").Number(GBperS(p.busbw));
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }

  const Plan& p = plan->plan;
  std::printf("plan for %s: %zu hosts x %d ranks = %d ranks, placement %s\n",
              s.cluster.name().c_str(), p.placement.hosts.size(),
              p.ranks_per_node, n, p.placement.method.c_str());
  if (p.placement.non_neighbor_hops >= 0) {
    std::printf("torus: %d hops between non-neighbours, ring %s\n",
                p.placement.non_neighbor_hops,
                p.placement.ring_closes_at_neighbor
                    ? "closes at a neighbour"
                    : "closes across the torus");
  }
  std::printf("\nrank order\n");
  {
    Table t({"group", "hosts", "ranks"});
    const std::vector<Run> runs = Runs(s.cluster, p);
    for (std::size_t i = 0; i < runs.size() && i < kMaxRuns; ++i) {
      t.Add({runs[i].group, CompressHostList(runs[i].hosts),
             RankRange(runs[i].first_rank, runs[i].last_rank)});
    }
    if (runs.size() > kMaxRuns)
      t.Add(
          {"...", std::to_string(runs.size() - kMaxRuns) + " more groups", ""});
    std::fputs(t.Render("  ").c_str(), stdout);
  }
  std::printf("\nsub-communicators\n");
  if (p.communicators.empty()) {
    std::printf("  none (every algorithm runs on the world)\n");
  } else {
    Table t({"name", "groups", "rank 0's group"});
    for (const SubCommunicator& sc : p.communicators)
      t.Add({sc.name, GroupSizes(sc), FirstGroup(sc)});
    std::fputs(t.Render("  ").c_str(), stdout);
  }
  std::printf("\nalgorithm by message size\n");
  std::set<Algorithm> used;
  {
    Table t({"from", "below", "algorithm"});
    for (const AlgorithmRange& r : p.algorithms) {
      t.Add(
          {Bytes(r.min_bytes), Bytes(r.max_bytes), AlgorithmName(r.algorithm)});
      used.insert(r.algorithm);
    }
    std::fputs(t.Render("  ").c_str(), stdout);
  }
  if (!p.env.empty()) {
    std::printf("\nenvironment\n");
    for (const auto& [k, v] : p.env)
      std::printf("  %s=%s\n", k.c_str(), v.c_str());
  }
  std::printf("\npredicted all-reduce\n%s\n",
              DescribeBound(plan->capacity).c_str());
  {
    Table t({"size", "lower bound", "plan time", "plan algorithm",
             "plan busbw (GB/s)", "hostname time", "random time",
             "random / plan"});
    for (int64_t b : *sizes) {
      const double tp = plan->CurveFor(b)->Seconds(b);
      const double th = by_name->CurveFor(b)->Seconds(b);
      const double tr = random->CurveFor(b)->Seconds(b);
      t.Add(
          {Bytes(b),
           FormatSeconds(CollectiveLowerBound(
               Collective::kAllReduce, plan->capacity, static_cast<double>(b))),
           FormatSeconds(tp), AlgorithmName(p.AlgorithmFor(b)),
           GBps(BusBandwidth(Collective::kAllReduce, n, b, tp)),
           FormatSeconds(th), FormatSeconds(tr), StrFormat("%.2fx", tr / tp)});
      used.insert(p.AlgorithmFor(b));
    }
    std::fputs(t.Render("  ").c_str(), stdout);
  }
  const std::string legend = AlgorithmLegend(used);
  if (!legend.empty()) std::printf("\n%s\n", legend.c_str());
  return 0;
}

// ---- simulate --------------------------------------------------------

int RunSimulate(const TopoOptions& o, const Setup& s) {
  StatusOr<std::vector<int64_t>> sizes =
      comm::bench::SweepSizesFromFlags(o.min_bytes, o.max_bytes);
  if (!sizes.ok()) return Fail(sizes.status());
  StatusOr<Evaluated> plan = Evaluate(s, PlacementKind::kAuto, "plan");
  if (!plan.ok()) return Fail(plan.status());
  if (o.dot) {
    StatusOr<std::string> dot =
        FabricDot(s.cluster, plan->plan.placement.hosts);
    if (!dot.ok()) return Fail(dot.status());
    std::fputs(dot->c_str(), stdout);
    return 0;
  }
  const int n = plan->plan.world_size();
  std::vector<Prediction> rows;
  for (int64_t b : *sizes)
    rows.push_back(
        Predict(*plan->CurveFor(b), Collective::kAllReduce, b, plan->capacity));
  if (o.json) {
    JsonWriter w;
    w.BeginObject();
    w.Key("cluster").String(s.cluster.name());
    w.Key("world_size").Int(n);
    w.Key("placement").String(plan->plan.placement.method);
    WriteCapacityJson(w, plan->capacity);
    w.Key("sweep").BeginArray();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Prediction& r = rows[i];
      w.BeginObject()
          .Key("bytes")
          .Int((*sizes)[i])
          .Key("algorithm")
          .String(AlgorithmName(plan->plan.AlgorithmFor((*sizes)[i])))
          .Key("seconds")
          .Number(r.seconds)
          .Key("algbw_gb_per_s")
          .Number(GBperS(r.algbw))
          .Key("busbw_gb_per_s")
          .Number(GBperS(r.busbw))
          .Key("lower_bound_s")
          .Number(r.lower_bound_seconds)
          .Key("hottest_link")
          .String(LinkName(r.hottest))
          .Key("hottest_utilization")
          .Number(r.hottest_utilization)
          .EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
    return 0;
  }
  std::printf("all-reduce on %s: %d ranks, placement %s\n%s\n",
              s.cluster.name().c_str(), n, plan->plan.placement.method.c_str(),
              DescribeBound(plan->capacity).c_str());
  Table t({"size", "algorithm", "time", "lower bound", "algbw (GB/s)",
           "busbw (GB/s)", "most loaded link", "busy (% of time)"});
  std::set<Algorithm> used;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Prediction& r = rows[i];
    const Algorithm a = plan->plan.AlgorithmFor((*sizes)[i]);
    used.insert(a);
    t.Add({Bytes((*sizes)[i]), AlgorithmName(a), FormatSeconds(r.seconds),
           FormatSeconds(r.lower_bound_seconds), GBps(r.algbw), GBps(r.busbw),
           LinkName(r.hottest),
           StrFormat("%.0f", 100 * r.hottest_utilization)});
  }
  std::fputs(t.Render("").c_str(), stdout);
  const std::string legend = AlgorithmLegend(used);
  if (!legend.empty()) std::printf("\n%s\n", legend.c_str());
  return 0;
}

}  // namespace

int RunTopo(const TopoOptions& options) {
  if (options.json && options.dot)
    return Fail(InvalidArgument("--json and --dot exclude each other"));
  StatusOr<Setup> setup = Prepare(options);
  if (!setup.ok()) return Fail(setup.status());
  if (options.action == "show") return RunShow(options, *setup);
  if (options.action == "plan") return RunPlan(options, *setup);
  if (options.action == "simulate") return RunSimulate(options, *setup);
  return Fail(InvalidArgument("unknown action `" + options.action + "`"));
}

}  // namespace dstrain::cli
