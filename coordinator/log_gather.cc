#include "coordinator/log_gather.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace dstrain::coordinator {

StatusOr<std::vector<LogRead>> PlanLogReads(
    const proto::GetLogsRequest& request, const proto::JobStatus& job,
    const std::vector<NodeInfo>& nodes) {
  if (job.ranks_size() == 0) {
    return FailedPrecondition("job " + job.job_id() +
                              " has not been placed on nodes yet: no worker "
                              "has written anything");
  }
  const int attempt = request.has_attempt() ? request.attempt() : job.attempt();
  std::map<std::string, const NodeInfo*> by_id;
  for (const NodeInfo& n : nodes) by_id[n.node_id] = &n;
  bool rank_found = request.all_ranks();
  bool node_found = request.node().empty();
  std::map<std::string, LogRead> reads;  // by node id
  std::vector<std::string> order;
  for (const proto::RankAssignment& a : job.ranks()) {
    const bool node_matches = request.node().empty() ||
                              a.node_id() == request.node() ||
                              a.host() == request.node();
    node_found = node_found || node_matches;
    if (!node_matches) continue;
    if (!request.all_ranks() && a.rank() != request.rank()) continue;
    rank_found = true;
    auto [it, added] = reads.try_emplace(a.node_id());
    LogRead& read = it->second;
    if (added) {
      order.push_back(a.node_id());
      read.node_id = a.node_id();
      read.host = a.host();
      auto node = by_id.find(a.node_id());
      if (node != by_id.end()) {
        read.agent_address = node->second->agent_address;
        read.lost = !node->second->alive;
      }
      read.request.set_job_id(job.job_id());
      read.request.set_attempt(attempt);
      read.request.set_tail(request.tail());
    }
    read.request.add_ranks(a.rank());
    for (const proto::LogCursor& c : request.after()) {
      if (c.rank() == a.rank()) *read.request.add_after() = c;
    }
  }
  if (!node_found) {
    return NotFound("job " + job.job_id() + " runs no rank on node `" +
                    request.node() + "`");
  }
  if (!rank_found) {
    return NotFound("job " + job.job_id() + " has no rank " +
                    std::to_string(request.rank()) +
                    (request.node().empty() ? "" : " on " + request.node()) +
                    " (world size " + std::to_string(job.world_size()) + ")");
  }
  std::vector<LogRead> out;
  for (const std::string& id : order) out.push_back(std::move(reads[id]));
  return out;
}

proto::GetLogsResponse MergeLogReads(
    const std::vector<LogRead>& reads,
    const std::vector<StatusOr<proto::ReadLogsResponse>>& results,
    int attempt) {
  proto::GetLogsResponse out;
  out.set_attempt(attempt);
  std::vector<proto::LogLine> lines;
  for (std::size_t i = 0; i < reads.size() && i < results.size(); ++i) {
    const StatusOr<proto::ReadLogsResponse>& r = results[i];
    if (!r.ok()) {
      if (r.status().code() != StatusCode::kNotFound) {
        out.add_unreachable(reads[i].host + ": " + r.status().message());
      }
      // The ranks asked keep their cursors for the next read.
      for (const proto::LogCursor& c : reads[i].request.after()) {
        *out.add_next() = c;
      }
      continue;
    }
    for (const proto::LogLine& l : r->lines()) {
      proto::LogLine& line = lines.emplace_back(l);
      line.set_host(reads[i].host);
    }
    for (const proto::LogCursor& c : r->next()) *out.add_next() = c;
    out.set_dropped(out.dropped() + r->dropped());
  }
  std::stable_sort(
      lines.begin(), lines.end(),
      [](const proto::LogLine& a, const proto::LogLine& b) {
        return std::make_tuple(a.time_unix_us(), a.rank(), a.line_no()) <
               std::make_tuple(b.time_unix_us(), b.rank(), b.line_no());
      });
  for (proto::LogLine& l : lines) *out.add_lines() = std::move(l);
  return out;
}

}  // namespace dstrain::coordinator
