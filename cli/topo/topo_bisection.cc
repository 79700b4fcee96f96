#include "cli/topo/topo_bisection.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <vector>

namespace dstrain::cli {
namespace {

class MaxFlow {
 public:
  explicit MaxFlow(int n) : graph_(n), level_(n), next_(n) {}

  // Two arcs of capacity `cap` each way (a full-duplex link).
  void AddDuplex(int a, int b, double cap) {
    graph_[a].push_back({b, static_cast<int>(graph_[b].size()), cap});
    graph_[b].push_back({a, static_cast<int>(graph_[a].size()) - 1, cap});
  }
  void AddArc(int a, int b, double cap) {
    graph_[a].push_back({b, static_cast<int>(graph_[b].size()), cap});
    graph_[b].push_back({a, static_cast<int>(graph_[a].size()) - 1, 0});
  }

  double Run(int s, int t) {
    double flow = 0;
    while (Levels(s, t)) {
      std::fill(next_.begin(), next_.end(), 0);
      while (true) {
        const double f = Push(s, t, std::numeric_limits<double>::infinity());
        if (f <= 0) break;
        flow += f;
      }
    }
    return flow;
  }

 private:
  struct Arc {
    int to;
    int rev;
    double cap;
  };
  static constexpr double kEps = 1e-9;

  bool Levels(int s, int t) {
    std::fill(level_.begin(), level_.end(), -1);
    std::queue<int> q;
    level_[s] = 0;
    q.push(s);
    while (!q.empty()) {
      const int v = q.front();
      q.pop();
      for (const Arc& a : graph_[v]) {
        if (a.cap > kEps && level_[a.to] < 0) {
          level_[a.to] = level_[v] + 1;
          q.push(a.to);
        }
      }
    }
    return level_[t] >= 0;
  }

  // Iterative DFS would avoid deep recursion; paths here are short (a
  // fat-tree's up-down path or a torus's half diameter), so recursion is
  // bounded by the BFS depth.
  double Push(int v, int t, double limit) {
    if (v == t) return limit;
    for (int& i = next_[v]; i < static_cast<int>(graph_[v].size()); ++i) {
      Arc& a = graph_[v][i];
      if (a.cap <= kEps || level_[a.to] != level_[v] + 1) continue;
      const double f = Push(a.to, t, std::min(limit, a.cap));
      if (f > 0) {
        a.cap -= f;
        graph_[a.to][a.rev].cap += f;
        return f;
      }
    }
    return 0;
  }

  std::vector<std::vector<Arc>> graph_;
  std::vector<int> level_;
  std::vector<int> next_;
};

}  // namespace

double BisectionBandwidth(const topology::Cluster& cluster,
                          std::span<const topology::VertexId> hosts,
                          int max_vertices) {
  const int n = cluster.num_vertices();
  if (hosts.size() < 2 || n > max_vertices) return -1;
  const int source = n;
  const int sink = n + 1;
  MaxFlow flow(n + 2);
  for (const topology::Link& l : cluster.links())
    flow.AddDuplex(l.a, l.b, l.bandwidth);
  const double inf = std::numeric_limits<double>::infinity();
  const std::size_t half = hosts.size() / 2;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    if (i < half) {
      flow.AddArc(source, hosts[i], inf);
    } else {
      flow.AddArc(hosts[i], sink, inf);
    }
  }
  return flow.Run(source, sink);
}

}  // namespace dstrain::cli
