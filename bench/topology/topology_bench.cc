// Topology engine benchmark: predicted all-reduce times of plans
// against the bandwidth lower bound, hostname order and random order, on
// the fabrics of the issue, and the planning time for 65,536 ranks.
//
//   build-<you>/bin/topology_bench [--json PATH] [--quick]
//
// Prints a table per fabric and writes every number to PATH (default
// topology_bench.json in the working directory). --quick skips the
// 65,536-rank timing (for a smoke run). Timing uses std::chrono: the median
// of several BuildPlan calls. Single-threaded.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "common/json_writer.h"
#include "common/units.h"
#include "topology/model/generators.h"
#include "topology/plan/ring.h"
#include "topology/planner/planner.h"
#include "topology/sim/cost_model.h"
#include "topology/sim/simulator.h"

namespace dstrain::topology {
namespace {

[[noreturn]] void Die(const Status& s, const char* what) {
  std::fprintf(stderr, "topology_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(v.status(), what);
  return std::move(v).value();
}

// A placement evaluated: its plan and one curve per applicable algorithm.
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
  // The plan's own choice at this size.
  double PlanSeconds(double bytes) const {
    return Curve(plan.AlgorithmFor(static_cast<int64_t>(bytes)))
        ->Seconds(bytes);
  }
};

Evaluated Evaluate(const Cluster& cluster, const std::vector<VertexId>& hosts,
                   PlacementKind kind, const char* order) {
  PlanOptions options;
  options.placement = kind;
  options.seed = 1;
  Evaluated e;
  e.order = order;
  e.plan = Must(BuildPlan(cluster, hosts, options), "BuildPlan");
  const Router router = Must(Router::Create(cluster), "Router");
  const SimOptions sim = SimOptionsFor(e.plan, options.sim);
  e.curves = Must(EvaluateAlgorithms(cluster, router, e.plan, sim), "simulate");
  e.capacity = FabricCapacityFor(
      cluster, RankMapFor(e.plan.placement.hosts, e.plan.ranks_per_node), sim);
  return e;
}

void WriteCurves(JsonWriter& w, const Evaluated& e,
                 const std::vector<double>& sizes) {
  w.BeginObject();
  w.Key("order").String(e.order);
  w.Key("placement").String(e.plan.placement.method);
  w.Key("algorithms").BeginArray();
  for (const AlgorithmRange& r : e.plan.algorithms) {
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
  w.Key("seconds").BeginObject();
  for (const auto& c : e.curves) {
    w.Key(AlgorithmName(c.algorithm)).BeginArray();
    for (double s : sizes) w.Number(c.curve.Seconds(s));
    w.EndArray();
  }
  w.Key("plan").BeginArray();
  for (double s : sizes) w.Number(e.PlanSeconds(s));
  w.EndArray();
  w.EndObject();
  w.EndObject();
}

struct Scenario {
  std::string name;
  Cluster cluster;
};

void RunScenario(const Scenario& sc, JsonWriter& w, bool torus) {
  const Cluster& cluster = sc.cluster;
  std::vector<VertexId> hosts(cluster.hosts().begin(), cluster.hosts().end());
  const Evaluated orders[] = {
      Evaluate(cluster, hosts, PlacementKind::kAuto, "plan"),
      Evaluate(cluster, hosts, PlacementKind::kHostname, "hostname"),
      Evaluate(cluster, hosts, PlacementKind::kRandom, "random"),
  };
  const Evaluated& plan = orders[0];
  const int32_t n = plan.plan.world_size();
  const double S = kGiB;
  const double bound =
      CollectiveLowerBound(Collective::kAllReduce, plan.capacity, S);
  std::printf(
      "\n== %s: %zu hosts x %d ranks = %d ranks; a host's network %.1f GB/s"
      " (the least), a rank's port inside a host %.1f GB/s\n",
      sc.name.c_str(), hosts.size(), plan.plan.ranks_per_node, n,
      plan.capacity.min_host_bandwidth / 1e9,
      plan.capacity.rank_port_bandwidth / 1e9);
  std::printf(
      "   lower bound at 1 GiB (host cut 2(H-1)/H*S/B_host, or the ranks'"
      " cut): %s\n",
      FormatSeconds(bound).c_str());
  std::printf("   %-9s %-12s", "order", "");
  for (Algorithm a : kAllAlgorithms) std::printf(" %12s", AlgorithmName(a));
  std::printf(" %12s %8s\n", "plan", "vs bound");
  for (const Evaluated& e : orders) {
    std::printf("   %-9s %-12s", e.order.c_str(),
                AlgorithmName(e.plan.AlgorithmFor(static_cast<int64_t>(S))));
    for (Algorithm a : kAllAlgorithms) {
      const CostCurve* c = e.Curve(a);
      std::printf(" %12s", c ? FormatSeconds(c->Seconds(S)).c_str() : "-");
    }
    std::printf(" %12s %7.3fx\n", FormatSeconds(e.PlanSeconds(S)).c_str(),
                e.PlanSeconds(S) / bound);
  }
  const double t_plan = plan.PlanSeconds(S);
  const double t_host = orders[1].PlanSeconds(S);
  const double t_rand = orders[2].PlanSeconds(S);
  const double ring_plan = plan.Curve(Algorithm::kRing)->Seconds(S);
  const double ring_rand = orders[2].Curve(Algorithm::kRing)->Seconds(S);
  std::printf(
      "   plan / bound = %.4f; hostname / plan = %.2fx; random / plan = %.2fx"
      " (ring only: random / plan order = %.2fx)\n",
      t_plan / bound, t_host / t_plan, t_rand / t_plan, ring_rand / ring_plan);
  const CostCurve& chosen =
      *plan.Curve(plan.plan.AlgorithmFor(static_cast<int64_t>(S)));
  const Prediction pred =
      Predict(chosen, Collective::kAllReduce, S, plan.capacity);
  std::printf(
      "   plan at 1 GiB: algbw %.1f GB/s, busbw %.1f GB/s; busiest link %s%s%s"
      " (%.0f%% busy)\n",
      pred.algbw / 1e9, pred.busbw / 1e9, pred.hottest.from.c_str(),
      pred.hottest.to.empty() ? "" : " -> ", pred.hottest.to.c_str(),
      100 * pred.hottest_utilization);
  std::printf("   plan ranges:");
  for (const AlgorithmRange& r : plan.plan.algorithms)
    std::printf(
        " [%s, %s): %s", ApproxBinaryBytes(r.min_bytes).c_str(),
        r.max_bytes < 0 ? "inf" : ApproxBinaryBytes(r.max_bytes).c_str(),
        AlgorithmName(r.algorithm));
  std::printf("\n");

  std::vector<double> sizes;
  for (double s = 8; s <= 4 * kGiB; s *= 8) sizes.push_back(s);
  if (std::find(sizes.begin(), sizes.end(), S) == sizes.end())
    sizes.push_back(S);
  std::sort(sizes.begin(), sizes.end());

  w.BeginObject();
  w.Key("fabric").String(sc.name);
  w.Key("hosts").Int(static_cast<int64_t>(hosts.size()));
  w.Key("ranks").Int(n);
  w.Key("host_network_gb_per_s").Number(plan.capacity.min_host_bandwidth / 1e9);
  w.Key("rank_port_gb_per_s").Number(plan.capacity.rank_port_bandwidth / 1e9);
  w.Key("bytes").Number(S);
  w.Key("lower_bound_seconds").Number(bound);
  w.Key("plan_seconds").Number(t_plan);
  w.Key("plan_over_bound").Number(t_plan / bound);
  w.Key("hostname_over_plan").Number(t_host / t_plan);
  w.Key("random_over_plan").Number(t_rand / t_plan);
  w.Key("ring_random_over_ring_plan").Number(ring_rand / ring_plan);
  w.Key("plan_busbw_gb_per_s").Number(pred.busbw / 1e9);
  w.Key("busiest_link")
      .String(pred.hottest.from +
              (pred.hottest.to.empty() ? "" : " -> " + pred.hottest.to));
  w.Key("sizes").BeginArray();
  for (double s : sizes) w.Number(s);
  w.EndArray();
  w.Key("orders").BeginArray();
  for (const Evaluated& e : orders) WriteCurves(w, e, sizes);
  w.EndArray();

  if (torus) {
    // Latency-bound range: the torus plan against a flat ring (over the
    // same snake order, the best a ring can do here).
    std::printf("   small messages: %10s %12s %12s %12s %8s %8s\n", "size",
                "flat ring", "torus algo", "plan", "ring/torus", "ring/plan");
    w.Key("small_messages").BeginArray();
    for (double s : {8.0, 1024.0, 65536.0, 1048576.0}) {
      const double ring = plan.Curve(Algorithm::kRing)->Seconds(s);
      const double tor = plan.Curve(Algorithm::kTorus)->Seconds(s);
      const double best = plan.PlanSeconds(s);
      std::printf("                   %10s %12s %12s %12s %7.1fx %7.1fx\n",
                  ApproxBinaryBytes(static_cast<int64_t>(s)).c_str(),
                  FormatSeconds(ring).c_str(), FormatSeconds(tor).c_str(),
                  FormatSeconds(best).c_str(), ring / tor, ring / best);
      w.BeginObject()
          .Key("bytes")
          .Number(s)
          .Key("flat_ring")
          .Number(ring)
          .Key("torus")
          .Number(tor)
          .Key("plan")
          .Number(best)
          .Key("ring_over_torus")
          .Number(ring / tor)
          .Key("ring_over_plan")
          .Number(ring / best)
          .EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) +
         1e-9 * static_cast<double>(ts.tv_nsec);
}

// Median wall-clock and CPU seconds of `runs` BuildPlan calls (the CPU time
// tells a busy shared machine apart from a slow planner).
std::pair<double, double> MedianPlanningSeconds(const Cluster& cluster,
                                                int runs) {
  std::vector<VertexId> hosts(cluster.hosts().begin(), cluster.hosts().end());
  std::vector<double> wall, cpu;
  for (int i = 0; i < runs; ++i) {
    const double cpu0 = ThreadCpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    Plan p = Must(BuildPlan(cluster, hosts, {}), "BuildPlan");
    const auto end = std::chrono::steady_clock::now();
    cpu.push_back(ThreadCpuSeconds() - cpu0);
    if (p.world_size() != 65536) std::abort();
    wall.push_back(std::chrono::duration<double>(end - start).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

int Main(int argc, char** argv) {
  std::string json_path = "topology_bench.json";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json") && i + 1 < argc) {
      json_path = argv[++i];
    } else if (!std::strcmp(argv[i], "--quick")) {
      quick = true;
    } else {
      std::fprintf(stderr, "usage: %s [--json PATH] [--quick]\n", argv[0]);
      return 2;
    }
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("fabrics").BeginArray();
  std::printf(
      "times per all-reduce; rhd = recursive halving-doubling, tree = NCCL's "
      "double binary tree\n");

  FatTreeOptions nb;
  nb.hosts = 1024;
  nb.devices_per_host = 8;
  nb.k = 32;  // 16 hosts per leaf, 16 leaves per pod, 4 pods
  nb.levels = 3;
  RunScenario({"3-level fat-tree k=32, non-blocking",
               Must(MakeFatTree(nb), "fat-tree")},
              w, false);
  FatTreeOptions os = nb;
  os.k = 24;  // 16 hosts and 8 uplinks per leaf, 4 pods
  os.oversubscription = 2;
  RunScenario({"3-level fat-tree k=24, 2:1 oversubscribed",
               Must(MakeFatTree(os), "fat-tree")},
              w, false);
  TorusOptions to;
  to.dims = {16, 16, 16};
  to.devices_per_host = 1;
  RunScenario({"16x16x16 torus, 1 rank per host", Must(MakeTorus(to), "torus")},
              w, true);
  w.EndArray();

  if (!quick) {
    std::printf(
        "\n== planning time (BuildPlan: placement, 5 simulations, "
        "validation), median of 5\n");
    w.Key("planning").BeginArray();
    FatTreeOptions big;
    big.hosts = 8192;
    big.devices_per_host = 8;
    big.k = 32;
    big.levels = 3;
    TorusOptions bt;
    bt.dims = {16, 16, 32};
    bt.devices_per_host = 8;
    const std::pair<std::string, Cluster> fabrics[] = {
        {"3-level fat-tree k=32, 8192 hosts x 8",
         Must(MakeFatTree(big), "fat-tree")},
        {"16x16x32 torus x 8", Must(MakeTorus(bt), "torus")},
    };
    for (const auto& [name, cluster] : fabrics) {
      const auto [wall, cpu] = MedianPlanningSeconds(cluster, 5);
      std::printf("   %-40s 65,536 ranks: %s wall, %s CPU\n", name.c_str(),
                  FormatSeconds(wall).c_str(), FormatSeconds(cpu).c_str());
      w.BeginObject()
          .Key("fabric")
          .String(name)
          .Key("ranks")
          .Int(65536)
          .Key("seconds")
          .Number(wall)
          .Key("cpu_seconds")
          .Number(cpu)
          .EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  std::ofstream(json_path) << w.str() << "\n";
  std::printf("\nwrote %s\n", json_path.c_str());
  return 0;
}

}  // namespace
}  // namespace dstrain::topology

int main(int argc, char** argv) { return dstrain::topology::Main(argc, argv); }
