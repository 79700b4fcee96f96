#include "coordinator/state/in_memory_state_store.h"

namespace dstrain::coordinator {
namespace {

Status UnknownJob(const std::string& id) {
  return NotFound("state store: no job `" + id + "`");
}

}  // namespace

StatusOr<StoredState> InMemoryStateStore::Load() const {
  std::lock_guard<std::mutex> lock(mu_);
  StoredState state;
  for (const auto& [order, id] : job_order_) {
    const Job& job = jobs_.at(id);
    StoredJob out = job.record;
    for (const auto& [step, m] : job.history) out.history.push_back(m);
    const int attempt = out.progress.attempt;
    for (const auto& [key, r] : job.results) {
      if (key.first == attempt) out.results.push_back(r);
    }
    for (const auto& [key, e] : job.exits) {
      if (key.first == attempt) out.exits.push_back(e);
    }
    state.jobs.push_back(std::move(out));
  }
  for (const auto& [ordinal, id] : node_order_) {
    state.nodes.push_back(nodes_.at(id));
  }
  return state;
}

Status InMemoryStateStore::CreateJob(const JobSubmission& job) {
  std::lock_guard<std::mutex> lock(mu_);
  if (jobs_.count(job.id) > 0 || job_order_.count(job.order) > 0) {
    return Status(StatusCode::kAlreadyExists,
                  "state store: job `" + job.id + "` or order " +
                      std::to_string(job.order) + " is already recorded");
  }
  Job& j = jobs_[job.id];
  j.record.id = job.id;
  j.record.order = job.order;
  j.record.spec = job.spec;
  j.record.submitted_us = job.submitted_us;
  j.record.events.push_back(job.event);
  job_order_[job.order] = job.id;
  return Status::Ok();
}

Status InMemoryStateStore::UpdateJob(const JobChange& change) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(change.job_id);
  if (it == jobs_.end()) return UnknownJob(change.job_id);
  StoredJob& r = it->second.record;
  r.progress = change.progress;
  r.events.push_back(change.event);
  if (change.ranks.has_value()) r.ranks = *change.ranks;
  return Status::Ok();
}

Status InMemoryStateStore::RecordMetrics(const MetricsBatch& batch) {
  std::lock_guard<std::mutex> lock(mu_);
  // Checked first: all or nothing.
  for (const StepsChange& c : batch.steps) {
    if (jobs_.count(c.job_id) == 0) return UnknownJob(c.job_id);
  }
  if (!batch.results.empty() && jobs_.count(batch.results_job_id) == 0) {
    return UnknownJob(batch.results_job_id);
  }
  for (const StepsChange& c : batch.steps) {
    std::map<int, proto::StepMetrics>& h = jobs_[c.job_id].history;
    if (c.drop_from_step.has_value()) {
      h.erase(h.lower_bound(*c.drop_from_step), h.end());
    }
    for (const proto::StepMetrics& m : c.steps) h[m.step()] = m;
    if (c.drop_before_step.has_value()) {
      h.erase(h.begin(), h.lower_bound(*c.drop_before_step));
    }
  }
  if (!batch.results.empty()) {
    Job& job = jobs_[batch.results_job_id];
    for (const proto::RankResult& r : batch.results) {
      job.results[{batch.results_attempt, r.rank()}] = r;
    }
  }
  return Status::Ok();
}

Status InMemoryStateStore::RecordExit(const std::string& job_id, int attempt,
                                      const proto::WorkerExit& exit) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return UnknownJob(job_id);
  it->second.exits.emplace(std::make_pair(attempt, exit.rank()), exit);
  return Status::Ok();
}

Status InMemoryStateStore::PutNode(const StoredNode& node) {
  std::lock_guard<std::mutex> lock(mu_);
  if (nodes_.count(node.id) > 0 || node_order_.count(node.ordinal) > 0) {
    return Status(StatusCode::kAlreadyExists,
                  "state store: node `" + node.id + "` or ordinal " +
                      std::to_string(node.ordinal) + " is already recorded");
  }
  nodes_[node.id] = node;
  node_order_[node.ordinal] = node.id;
  return Status::Ok();
}

Status InMemoryStateStore::UpdateNode(const StoredNode& node) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(node.id);
  if (it == nodes_.end()) {
    return NotFound("state store: no node `" + node.id + "`");
  }
  it->second.inventory = node.inventory;
  it->second.agent_address = node.agent_address;
  it->second.lost = node.lost;
  it->second.drained = node.drained;
  it->second.drain_reason = node.drain_reason;
  it->second.cordoned_until_us = node.cordoned_until_us;
  it->second.cordon_reason = node.cordon_reason;
  return Status::Ok();
}

Status InMemoryStateStore::RecordHeartbeats(
    const std::vector<std::pair<std::string, std::int64_t>>& times) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, us] : times) {
    auto it = nodes_.find(id);
    if (it != nodes_.end()) it->second.last_heartbeat_us = us;
  }
  return Status::Ok();
}

Status InMemoryStateStore::MarkNodesLost(
    const std::vector<std::string>& node_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& id : node_ids) {
    if (nodes_.count(id) == 0) {
      return NotFound("state store: no node `" + id + "`");
    }
  }
  for (const std::string& id : node_ids) nodes_[id].lost = true;
  return Status::Ok();
}

}  // namespace dstrain::coordinator
