#include "topology/planner/validate.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "topology/planner/planner.h"

namespace dstrain::topology {

Status ValidateRankOrder(std::span<const int32_t> order) {
  const int64_t n = static_cast<int64_t>(order.size());
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t r = order[i];
    if (r < 0 || r >= n) {
      return InvalidArgument("rank order: position " + std::to_string(i) +
                             " holds rank " + std::to_string(r) +
                             ", outside 0.." + std::to_string(n - 1));
    }
    if (seen[r]) {
      return InvalidArgument("rank order: rank " + std::to_string(r) +
                             " appears twice (again at position " +
                             std::to_string(i) + ")");
    }
    seen[r] = true;
  }
  return Status::Ok();
}

Status ValidateSubCommunicator(const SubCommunicator& comm, int32_t world) {
  const std::string what = "sub-communicator `" + comm.name + "`";
  if (comm.name.empty())
    return InvalidArgument("a sub-communicator needs a name");
  if (static_cast<int32_t>(comm.color.size()) != world ||
      static_cast<int32_t>(comm.key.size()) != world) {
    return InvalidArgument(what + " has " + std::to_string(comm.color.size()) +
                           " colours and " + std::to_string(comm.key.size()) +
                           " keys for " + std::to_string(world) + " ranks");
  }
  std::unordered_map<int32_t, std::unordered_set<int32_t>> keys;
  for (int32_t r = 0; r < world; ++r) {
    if (comm.color[r] < 0) {
      return InvalidArgument(what + ": rank " + std::to_string(r) +
                             " joins no group (colour " +
                             std::to_string(comm.color[r]) + ")");
    }
    if (!keys[comm.color[r]].insert(comm.key[r]).second) {
      return InvalidArgument(what + ": key " + std::to_string(comm.key[r]) +
                             " is used twice in colour " +
                             std::to_string(comm.color[r]) + " (rank " +
                             std::to_string(r) + ")");
    }
  }
  return Status::Ok();
}

Status ValidateSchedule(const Schedule& s) {
  const std::string what = "schedule `" + s.algorithm + "`";
  if (s.nranks < 0) return InvalidArgument(what + ": negative rank count");
  for (const Phase& p : s.phases) {
    const std::string where = what + " phase `" + p.name + "`";
    if (p.kind == PhaseKind::kSteps && p.steps < 1)
      return InvalidArgument(where + ": steps must be >= 1");
    if (p.kind == PhaseKind::kPipelined &&
        (p.host_hops < 0 || p.net_hops < 0 || p.chunk_fraction < 0 ||
         p.chunk_fraction > 1))
      return InvalidArgument(where + ": bad pipeline hops or chunk");
    for (const Transfer& t : p.transfers) {
      if (t.src < 0 || t.src >= s.nranks || t.dst < 0 || t.dst >= s.nranks) {
        return InvalidArgument(where + ": transfer " + std::to_string(t.src) +
                               " -> " + std::to_string(t.dst) +
                               " leaves ranks 0.." +
                               std::to_string(s.nranks - 1));
      }
      if (t.src == t.dst)
        return InvalidArgument(where + ": rank " + std::to_string(t.src) +
                               " sends to itself");
      // A step moves at most the message; a pipelined transfer carries the
      // whole operation's bytes, up to twice the message (an all-reduce's
      // reduce-scatter and all-gather).
      const double most = p.kind == PhaseKind::kSteps ? 1 : 2;
      if (!std::isfinite(t.fraction) || t.fraction <= 0 || t.fraction > most) {
        return InvalidArgument(where + ": transfer " + std::to_string(t.src) +
                               " -> " + std::to_string(t.dst) +
                               " carries a fraction outside (0, " +
                               (p.kind == PhaseKind::kSteps ? "1" : "2") + "]");
      }
    }
  }
  return Status::Ok();
}

Status ValidateScheduleRoutes(const Cluster& cluster, const Router& router,
                              const RankMap& ranks, const Schedule& schedule) {
  const int32_t n = static_cast<int32_t>(ranks.host.size());
  VertexId last_a = kNoVertex, last_b = kNoVertex;
  std::vector<Hop> hops;
  for (const Phase& p : schedule.phases) {
    for (const Transfer& t : p.transfers) {
      if (t.src < 0 || t.src >= n || t.dst < 0 || t.dst >= n)
        return InvalidArgument("schedule `" + schedule.algorithm +
                               "`: a transfer names a rank with no host");
      const VertexId a = ranks.host[t.src], b = ranks.host[t.dst];
      if (a == b || (a == last_a && b == last_b)) continue;
      last_a = a;
      last_b = b;
      // Every stripe: port i of the sender to port i of the receiver.
      const int ports = std::max<int>(1, router.Ports(a).size());
      for (int port = 0; port < ports; ++port) {
        hops.clear();
        DSTRAIN_RETURN_IF_ERROR(router.Route(a, port, b, port, &hops));
        VertexId at = a;
        for (const Hop& h : hops) {
          if (h.link < 0 || h.link >= cluster.num_links())
            return InvalidArgument("route `" + cluster.vertex(a).name +
                                   "` -> `" + cluster.vertex(b).name +
                                   "` uses no link");
          const Link& l = cluster.link(h.link);
          const VertexId from = h.forward ? l.a : l.b;
          if (from != at) {
            return InvalidArgument("route `" + cluster.vertex(a).name +
                                   "` -> `" + cluster.vertex(b).name +
                                   "` breaks at `" + cluster.vertex(at).name +
                                   "`");
          }
          at = h.forward ? l.b : l.a;
        }
        if (at != b) {
          return InvalidArgument("route `" + cluster.vertex(a).name + "` -> `" +
                                 cluster.vertex(b).name + "` ends at `" +
                                 cluster.vertex(at).name + "`");
        }
      }
    }
  }
  return Status::Ok();
}

Status ValidatePlan(const Cluster& cluster, const Plan& plan,
                    bool check_routes) {
  DSTRAIN_RETURN_IF_ERROR(ValidateRankLayout(plan.ranks));
  DSTRAIN_RETURN_IF_ERROR(CheckAllocation(cluster, plan.placement.hosts));
  const int32_t g = plan.ranks_per_node;
  const int32_t world = plan.world_size();
  if (g < 1 || static_cast<int64_t>(plan.placement.hosts.size()) * g != world) {
    return InvalidArgument("plan: " + std::to_string(world) + " ranks for " +
                           std::to_string(plan.placement.hosts.size()) +
                           " hosts x " + std::to_string(g) + " ranks per host");
  }
  for (int32_t r = 0; r < world; ++r) {
    const RankSlot& s = plan.ranks[r];
    const VertexId h = plan.placement.hosts[r / g];
    if (s.rank != r || s.local_rank != r % g || s.node_rank != r / g ||
        s.node_id != cluster.vertex(h).name) {
      return InvalidArgument(
          "plan: rank " + std::to_string(r) + " is not laid out on host `" +
          cluster.vertex(h).name + "` local rank " + std::to_string(r % g));
    }
  }
  for (VertexId h : plan.placement.hosts) {
    const int devices = cluster.vertex(h).host.devices;
    if (devices > 0 && g > devices) {
      return InvalidArgument("plan: host `" + cluster.vertex(h).name +
                             "` has " + std::to_string(devices) +
                             " devices for " + std::to_string(g) + " ranks");
    }
  }
  std::set<std::string> names;
  for (const SubCommunicator& c : plan.communicators) {
    if (!names.insert(c.name).second)
      return InvalidArgument("plan: two sub-communicators named `" + c.name +
                             "`");
    DSTRAIN_RETURN_IF_ERROR(ValidateSubCommunicator(c, world));
  }
  if (plan.algorithms.empty())
    return InvalidArgument("plan: no algorithm ranges");
  int64_t next = 0;
  for (size_t i = 0; i < plan.algorithms.size(); ++i) {
    const AlgorithmRange& r = plan.algorithms[i];
    const bool last = i + 1 == plan.algorithms.size();
    if (r.min_bytes != next ||
        (last ? r.max_bytes != -1 : r.max_bytes <= r.min_bytes)) {
      return InvalidArgument(
          "plan: algorithm ranges must run from 0 upward "
          "without gaps and end open (range " +
          std::to_string(i) + ")");
    }
    next = r.max_bytes;
  }
  DSTRAIN_ASSIGN_OR_RETURN(auto router, Router::Create(cluster));
  const RankMap ranks = RankMapFor(plan.placement.hosts, g);
  std::set<Algorithm> seen;
  for (const AlgorithmRange& r : plan.algorithms) {
    if (!seen.insert(r.algorithm).second) continue;
    DSTRAIN_ASSIGN_OR_RETURN(auto schedule,
                             BuildSchedule(cluster, plan, r.algorithm));
    DSTRAIN_RETURN_IF_ERROR(ValidateSchedule(schedule));
    if (!check_routes) continue;
    DSTRAIN_RETURN_IF_ERROR(
        ValidateScheduleRoutes(cluster, router, ranks, schedule));
  }
  return Status::Ok();
}

}  // namespace dstrain::topology
