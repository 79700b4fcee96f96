#include "coordinator/job_manager.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "common/contract/exit_codes.h"
#include "common/contract/worker_env.h"
#include "common/log.h"
#include "common/rpc/auth.h"
#include "common/rpc/worker_exit.h"
#include "common/units.h"
#include "coordinator/elastic.h"
#include "coordinator/exit_description.h"
#include "coordinator/hang_report.h"
#include "coordinator/job_fabric.h"
#include "coordinator/state/in_memory_state_store.h"
#include "coordinator/straggler_check.h"
#include "topology/model/rank_layout.h"

namespace dstrain::coordinator {
namespace {

Status UnknownJob(const std::string& job_id) {
  return NotFound("unknown job `" + job_id + "`");
}

// A failure's reason with what differs between ranks taken out: numbers
// become N and the job's host names HOST ("rank N on HOST exited with code
// N: ..."), so that the same error on another rank compares equal.
std::string FailureSignature(const std::string& reason,
                             const std::vector<std::string>& hosts) {
  std::string text = reason;
  for (const std::string& h : hosts) {
    if (h.empty()) continue;
    for (std::size_t at = text.find(h); at != std::string::npos;
         at = text.find(h, at + 4)) {
      text.replace(at, h.size(), "HOST");
    }
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (!digit) {
      out += text[i];
    } else if (out.empty() || out.back() != 'N') {
      out += 'N';
    }
  }
  return out;
}

double Seconds(Clock::Duration d) {
  return std::chrono::duration<double>(d).count();
}

constexpr const char* kCoordinatorRestarted = "the coordinator restarted";

// "placed on 2 nodes (alpha, beta)"; the first few hosts only, so a large
// job's event stays one short line (its ranks name every node).
std::string PlacedOn(const std::vector<NodeInfo>& nodes) {
  constexpr std::size_t kNamed = 8;
  std::string hosts;
  for (std::size_t i = 0; i < nodes.size() && i < kNamed; ++i) {
    hosts += (i == 0 ? "" : ", ") + nodes[i].host();
  }
  if (nodes.size() > kNamed) {
    hosts += " and " + std::to_string(nodes.size() - kNamed) + " more";
  }
  return "placed on " + std::to_string(nodes.size()) + " node" +
         (nodes.size() == 1 ? "" : "s") + " (" + hosts + ")";
}

}  // namespace

JobManager::JobManager(NodeManager* nodes, RendezvousStore* kv,
                       AgentClient* agents, Executor* executor,
                       const Clock* clock, JobManagerOptions options)
    : nodes_(nodes),
      kv_(kv),
      agents_(agents),
      executor_(executor),
      clock_(clock),
      options_(std::move(options)),
      own_store_(options_.store == nullptr
                     ? std::make_unique<InMemoryStateStore>()
                     : nullptr),
      store_(options_.store == nullptr ? own_store_.get() : options_.store),
      commit_(store_),
      coordinator_address_(options_.coordinator_address),
      rng_(std::random_device{}()) {}

JobManager::~JobManager() {
  std::lock_guard<std::mutex> lock(lifetime_->mu);
  lifetime_->alive = false;
}

void JobManager::SetCoordinatorAddress(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  coordinator_address_ = address;
}

JobManager::Job* JobManager::FindLocked(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? nullptr : &it->second;
}

void JobManager::NoteStore(const Status& written, Effects* effects) {
  if (written.ok()) return;
  log::Error("coordinator: " + written.message());
  if (effects->store_error.ok()) effects->store_error = written;
}

void JobManager::TransitionLocked(Job* job, proto::JobState to,
                                  const std::string& cause, bool placed,
                                  Effects* effects) {
  const std::int64_t now = clock_->UnixMicros();
  if (to == proto::JOB_STARTING) {
    job->started_us = now;
    job->running_us = 0;
    job->startup_s = -1;
  }
  if (to == proto::JOB_STARTING) job->progress.clear();
  if (to == proto::JOB_RUNNING) {
    job->running_us = now;
    job->progress_since = clock_->Now();
  }
  if (IsEnded(to)) job->ended_us = now;
  proto::JobEvent event;
  event.set_time_unix_us(now);
  event.set_from_state(job->state);
  event.set_to_state(to);
  event.set_attempt(job->attempt);
  event.set_cause(cause);
  job->state = to;
  job->events.push_back(event);
  JobChange change;
  change.job_id = job->id;
  change.progress.state = job->state;
  change.progress.reason = job->reason;
  change.progress.attempt = job->attempt;
  change.progress.world_size = job->world_size;
  change.progress.restart_reason = job->restart_reason;
  change.progress.started_us = job->started_us;
  change.progress.ended_us = job->ended_us;
  change.progress.credential_sha256 = job->credential_sha256;
  change.event = std::move(event);
  if (placed) change.ranks = job->ranks;
  effects->writes.push_back(
      commit_.Enqueue([change = std::move(change)](StateStore& s) {
        return s.UpdateJob(change);
      }));
}

Status JobManager::Restore(std::vector<StoredJob> stored) {
  Effects effects;
  int failed = 0;
  int queued = 0;
  int adopting = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!jobs_.empty()) {
      return FailedPrecondition("JobManager::Restore after a job was launched");
    }
    for (StoredJob& s : stored) {
      Job job;
      job.id = s.id;
      job.order = s.order;
      job.spec = std::move(s.spec);
      job.state = s.progress.state;
      job.reason = s.progress.reason;
      job.attempt = s.progress.attempt;
      job.world_size = s.progress.world_size;
      job.restart_reason = s.progress.restart_reason;
      job.ranks = std::move(s.ranks);
      job.history.assign(s.history.begin(), s.history.end());
      for (proto::RankResult& r : s.results) job.results[r.rank()] = r;
      for (proto::WorkerExit& e : s.exits) job.exits[e.rank()] = e;
      job.events = std::move(s.events);
      job.restored = true;
      job.submitted_us = s.submitted_us;
      job.started_us = s.progress.started_us;
      job.ended_us = s.progress.ended_us;
      next_order_ = std::max(next_order_, s.order + 1);
      Job* j = &jobs_.emplace(s.id, std::move(job)).first->second;
      if (IsEnded(j->state)) continue;
      // Its cluster description again: a running job's next attempt and
      // its fabric view need it as much as a queued job's placement.
      Status cluster_loaded;
      if (!j->spec.topology().cluster_path().empty()) {
        StatusOr<std::shared_ptr<const JobCluster>> cluster =
            LoadJobCluster(j->spec.topology(), j->spec.procs_per_node());
        if (cluster.ok()) {
          j->cluster = std::move(cluster).value();
        } else {
          cluster_loaded = cluster.status();
          j->cluster_error = std::string(kCoordinatorRestarted) +
                             " and the job's cluster description no longer "
                             "loads: " +
                             cluster.status().message();
        }
      }
      if (j->state != proto::JOB_PENDING) {
        ReadoptLocked(j, s.progress.credential_sha256, &effects);
        ++adopting;
        continue;
      }
      j->ranks.clear();
      std::string cause = std::string(kCoordinatorRestarted) + "; queued again";
      if (!cluster_loaded.ok()) {
        j->reason = j->cluster_error;
        TransitionLocked(j, proto::JOB_FAILED, j->reason, /*placed=*/false,
                         &effects);
        ++failed;
        continue;
      }
      kv_->OpenJob(j->id);
      TransitionLocked(j, proto::JOB_PENDING, cause, /*placed=*/false,
                       &effects);
      ++queued;
    }
    ScheduleLocked(&effects);
  }
  Apply(&effects);
  if (!stored.empty()) {
    log::Info("coordinator: restored " + std::to_string(stored.size()) +
              " jobs from " + store_->Describe() + ": " +
              std::to_string(adopting) +
              " running (their agents' workers are re-adopted as they "
              "register again), " +
              std::to_string(queued) + " queued again, " +
              std::to_string(failed) + " failed");
  }
  return effects.store_error;
}

void JobManager::ReadoptLocked(Job* j, const std::string& credential_sha256,
                               Effects* effects) {
  // Running (or starting, or between two attempts) when the coordinator
  // stopped: its workers may well still run. The placement comes back from
  // the rank assignments, each node awaiting its agent (AdoptNode).
  j->credential_sha256 = credential_sha256;
  j->starts_pending = 0;
  std::string lost_host;
  for (const proto::RankAssignment& a : j->ranks) {
    const std::size_t n = static_cast<std::size_t>(a.node_rank());
    if (n >= j->nodes.size()) j->nodes.resize(n + 1);
    Placement& p = j->nodes[n];
    if (!p.node_id.empty()) continue;
    p.node_id = a.node_id();
    p.host = a.host();
    std::optional<NodeInfo> node = nodes_->Get(a.node_id());
    if (node.has_value()) p.agent_address = node->agent_address;
    // A node lost before the restart (or never recorded) will not come
    // back under its id.
    p.awaiting = node.has_value() && node->awaiting;
    p.lost = !p.awaiting;
    if (p.lost && lost_host.empty()) lost_host = p.host;
  }
  // Its rendezvous namespace is open again; the ranks set their keys
  // anew when they see the coordinator's new instance.
  kv_->OpenJob(j->id);
  TransitionLocked(j, j->state,
                   std::string(kCoordinatorRestarted) + "; waiting for the " +
                       std::to_string(j->nodes.size()) + " node" +
                       (j->nodes.size() == 1 ? "" : "s") + " of attempt " +
                       std::to_string(j->attempt) +
                       " to register their workers again",
                   /*placed=*/false, effects);
  const proto::WorkerExit* failed_exit = nullptr;
  for (const auto& [rank, e] : j->exits) {
    if (rpc::IsFailure(e) && failed_exit == nullptr) failed_exit = &e;
  }
  if (!lost_host.empty()) {
    FailOrRestartLocked(
        j,
        {"node " + lost_host + " was lost before the coordinator restarted",
         clock_->Now()},
        effects);
  } else if (failed_exit != nullptr) {
    // It was failing (perhaps restarting) when the coordinator stopped.
    const proto::RankAssignment& a = j->ranks[failed_exit->rank()];
    FailOrRestartLocked(
        j,
        {DescribeExit(*failed_exit, j->nodes[a.node_rank()].host),
         clock_->Now(), a.node_id(), failed_exit->rank()},
        effects);
  } else if (static_cast<int>(j->exits.size()) == j->world_size) {
    EndLocked(j, proto::JOB_SUCCEEDED, "", /*stop_workers=*/false, effects);
  }
}

std::vector<std::string> JobManager::AdoptNode(
    const std::string& node_id, const std::vector<proto::RunningJob>& running) {
  Effects effects;
  std::vector<std::string> stop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, const proto::RunningJob*> reported;
    for (const proto::RunningJob& r : running) {
      Job* job = FindLocked(r.job_id());
      bool ours = job != nullptr && IsActive(job->state) && !job->restarting &&
                  job->attempt == r.attempt();
      if (ours) {
        ours = false;
        for (const Placement& p : job->nodes) {
          ours = ours || (p.node_id == node_id && !p.lost);
        }
      }
      if (ours) {
        reported[r.job_id()] = &r;
      } else {
        // Ended, failed over, restarting or unknown here: nothing of it
        // should run on.
        stop.push_back(r.job_id());
      }
    }
    for (auto& [id, job] : jobs_) {
      if (!IsActive(job.state)) continue;
      Placement* placed = nullptr;
      int node_rank = 0;
      for (std::size_t n = 0; n < job.nodes.size(); ++n) {
        if (job.nodes[n].node_id == node_id && job.nodes[n].awaiting) {
          placed = &job.nodes[n];
          node_rank = static_cast<int>(n);
        }
      }
      if (placed == nullptr) continue;
      placed->awaiting = false;
      if (job.restarting) continue;  // its workers were stopped above
      // Each of the node's ranks still runs, or its exit is recorded (or on
      // its way: the agent counts undelivered exits as running).
      std::set<int> alive;
      auto it = reported.find(id);
      if (it != reported.end()) {
        alive.insert(it->second->ranks().begin(), it->second->ranks().end());
      }
      std::string gone;
      for (const proto::RankAssignment& a : job.ranks) {
        if (a.node_rank() != node_rank || alive.count(a.rank()) > 0 ||
            job.exits.count(a.rank()) > 0) {
          continue;
        }
        gone += (gone.empty() ? "" : ", ") + std::to_string(a.rank());
      }
      if (!gone.empty()) {
        FailOrRestartLocked(
            &job,
            {"rank" +
                 std::string(gone.find(',') == std::string::npos ? " " : "s ") +
                 gone + " on " + placed->host +
                 " no longer ran when its agent registered "
                 "again after the coordinator restarted",
             clock_->Now()},
            &effects);
        continue;
      }
      bool all_back = true;
      for (const Placement& p : job.nodes) all_back = all_back && !p.awaiting;
      if (!all_back) continue;
      const std::size_t n = job.nodes.size();
      TransitionLocked(&job, proto::JOB_RUNNING,
                       "re-adopted the workers on " + std::to_string(n) +
                           " node" + (n == 1 ? "" : "s") +
                           " after the coordinator restarted",
                       /*placed=*/false, &effects);
    }
  }
  Apply(&effects);
  return stop;
}

StatusOr<std::string> JobManager::LaunchJob(const proto::JobSpec& spec) {
  const std::string what =
      "job `" + (spec.name().empty() ? std::string("?") : spec.name()) + "`: ";
  if (spec.procs_per_node() < 1) {
    return InvalidArgument(
        what + "procs_per_node = " + std::to_string(spec.procs_per_node()) +
        " must be at least 1");
  }
  if (spec.nodes_min() < 1) {
    return InvalidArgument(what +
                           "nodes.min = " + std::to_string(spec.nodes_min()) +
                           " must be at least 1");
  }
  if (spec.nodes_max() != 0 && spec.nodes_max() < spec.nodes_min()) {
    return InvalidArgument(
        what + "nodes.max = " + std::to_string(spec.nodes_max()) +
        " is below nodes.min = " + std::to_string(spec.nodes_min()));
  }
  // The cluster description is read here, outside mu_, once per job.
  std::shared_ptr<const JobCluster> cluster;
  if (!spec.topology().cluster_path().empty()) {
    StatusOr<std::shared_ptr<const JobCluster>> loaded =
        LoadJobCluster(spec.topology(), spec.procs_per_node());
    if (!loaded.ok()) return InvalidArgument(what + loaded.status().message());
    cluster = std::move(loaded).value();
  }
  Effects effects;
  std::string job_id;
  Job job;
  {
    // The id and the place in the queue are taken here; the job is
    // recorded without mu_ held, and only then can anyone see it.
    std::lock_guard<std::mutex> lock(mu_);
    do {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "j-%06llx",
                    static_cast<unsigned long long>(rng_() & 0xffffff));
      job_id = buf;
    } while (jobs_.count(job_id) > 0 || reserved_ids_.count(job_id) > 0);
    reserved_ids_.insert(job_id);
    job.order = next_order_++;
  }
  {
    job.id = job_id;
    job.spec = spec;
    job.cluster = std::move(cluster);
    if (job.spec.nodes_max() == 0) job.spec.set_nodes_max(spec.nodes_min());
    job.launched_at = clock_->Now();
    job.submitted_us = clock_->UnixMicros();
    proto::JobEvent submitted;
    submitted.set_time_unix_us(job.submitted_us);
    submitted.set_from_state(proto::JOB_STATE_UNSPECIFIED);
    submitted.set_to_state(proto::JOB_PENDING);
    submitted.set_cause(spec.slurm_job_id().empty()
                            ? std::string("submitted")
                            : "submitted from Slurm job " +
                                  spec.slurm_job_id());
    job.events.push_back(submitted);
  }
  // Recorded before anyone can see the job: a job the caller is told
  // about survives a restart of the coordinator.
  JobSubmission submission{job_id, job.order, job.spec, job.submitted_us,
                           job.events.front()};
  const Status recorded = commit_.Await(
      commit_.Enqueue([submission = std::move(submission)](StateStore& s) {
        return s.CreateJob(submission);
      }));
  {
    std::lock_guard<std::mutex> lock(mu_);
    reserved_ids_.erase(job_id);
    if (!recorded.ok()) {
      log::Error("coordinator: " + recorded.message());
      return recorded;
    }
    jobs_.emplace(job_id, std::move(job));
    // Opened under mu_ so no other thread can see the job without its
    // namespace (RendezvousStore's lock is a leaf here).
    kv_->OpenJob(job_id);
    ScheduleLocked(&effects);
  }
  Apply(&effects);
  return job_id;
}

void JobManager::Schedule() {
  Effects effects;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ScheduleLocked(&effects);
  }
  Apply(&effects);
}

void JobManager::ScheduleLocked(Effects* effects) {
  if (scheduling_) {
    reschedule_ = true;
    return;
  }
  scheduling_ = true;
  do {
    reschedule_ = false;
    SchedulePassLocked(effects);
  } while (reschedule_);
  scheduling_ = false;
}

bool NodeFits(const proto::JobSpec& spec, const proto::NodeInventory& node) {
  // A CUDA job puts one rank on each GPU.
  return spec.device() != "cuda" || node.gpus_size() >= spec.procs_per_node();
}

std::string JobManager::WhyWaiting(
    const Job& job, const std::map<std::string, std::string>& busy_by,
    std::size_t free_nodes) const {
  const int need = job.spec.nodes_min();
  const std::size_t live = nodes_->LiveNodes().size();
  std::string why = "needs " + std::to_string(need) + " free node" +
                    (need == 1 ? "" : "s") + ": " + std::to_string(live) +
                    " registered";
  if (!busy_by.empty()) {
    std::set<std::string> holders;
    for (const auto& [node, holder] : busy_by) holders.insert(holder);
    std::string jobs;
    for (const std::string& h : holders) jobs += (jobs.empty() ? "" : ", ") + h;
    why += ", " + std::to_string(busy_by.size()) + " busy running job" +
           (holders.size() == 1 ? " " : "s ") + jobs;
  }
  std::size_t drained = 0, cordoned = 0;
  const Clock::TimePoint now = clock_->Now();
  for (const NodeInfo& node : nodes_->LiveNodes()) {
    drained += node.drained;
    cordoned += !node.drained && node.Cordoned(now);
  }
  if (drained > 0) why += ", " + std::to_string(drained) + " drained";
  if (cordoned > 0) why += ", " + std::to_string(cordoned) + " cordoned";
  if (live < static_cast<std::size_t>(need)) {
    why += "; waiting for " + std::to_string(need - live) + " more to register";
  } else if (free_nodes < static_cast<std::size_t>(need)) {
    // What would free a node.
    std::string freed;
    if (drained > 0 || (busy_by.empty() && cordoned == 0)) {
      freed = "a node to be undrained";
    }
    if (cordoned > 0) {
      freed +=
          (freed.empty() ? "" : " or ") + std::string("a cordon to expire");
    }
    if (!busy_by.empty()) {
      freed = "a job to end" + (freed.empty() ? "" : " or " + freed);
    }
    why += "; waiting for " + freed;
  }
  return why;
}

void JobManager::SchedulePassLocked(Effects* effects) {
  std::vector<Job*> pending;
  std::set<std::string> busy;
  std::map<std::string, std::string> busy_by;  // node id -> job id
  for (auto& [id, job] : jobs_) {
    if (job.state == proto::JOB_PENDING) pending.push_back(&job);
    if (IsActive(job.state)) {
      for (const Placement& p : job.nodes) {
        busy.insert(p.node_id);
        busy_by[p.node_id] = job.id;
      }
    }
  }
  if (pending.empty()) return;
  // Higher priority first, then first come, first served.
  std::sort(pending.begin(), pending.end(), [](const Job* a, const Job* b) {
    if (a->spec.priority() != b->spec.priority()) {
      return a->spec.priority() > b->spec.priority();
    }
    return a->order < b->order;
  });
  std::vector<NodeInfo> free;
  // Drained nodes take no new job, nor do cordoned ones: but a restart
  // that cannot go on without its cordoned nodes takes them back rather
  // than wait out the cordon (they come last, and only as many as it
  // needs).
  const Clock::TimePoint now = clock_->Now();
  std::set<std::string> cordoned;
  for (NodeInfo& node : nodes_->LiveNodes()) {
    if (node.drained || busy.count(node.node_id) != 0) continue;
    if (node.Cordoned(now)) cordoned.insert(node.node_id);
    free.push_back(std::move(node));
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    Job* job = pending[i];
    // Only nodes that can hold the job's ranks count for it.
    std::vector<std::size_t> fitting, fitting_cordoned;
    for (std::size_t n = 0; n < free.size(); ++n) {
      if (!NodeFits(job->spec, free[n].inventory)) continue;
      (cordoned.count(free[n].node_id) == 0 ? fitting : fitting_cordoned)
          .push_back(n);
    }
    const std::size_t need = static_cast<std::size_t>(job->spec.nodes_min());
    std::size_t cordoned_taken = 0;
    if (job->attempt > 0 && fitting.size() < need &&
        fitting.size() + fitting_cordoned.size() >= need) {
      cordoned_taken = need - fitting.size();
    }
    // In queue order: a later (or lower-priority), smaller job does not
    // overtake one that waits for more nodes.
    if (fitting.size() + cordoned_taken < need) {
      std::size_t usable = 0;  // free and neither drained nor cordoned
      for (const NodeInfo& node : free) {
        usable += cordoned.count(node.node_id) == 0;
      }
      job->pending_reason = WhyWaiting(*job, busy_by, usable);
      if (fitting.size() < usable) {
        job->pending_reason +=
            "; " + std::to_string(usable - fitting.size()) + " free node" +
            (usable - fitting.size() == 1 ? " has" : "s have") +
            " fewer than the " + std::to_string(job->spec.procs_per_node()) +
            " GPUs a cuda job with procs_per_node " +
            std::to_string(job->spec.procs_per_node()) + " needs";
      }
      for (std::size_t j = i + 1; j < pending.size(); ++j) {
        pending[j]->pending_reason =
            "queued behind job " + job->id +
            " (higher priority first, then first come, first served)";
      }
      return;
    }
    job->pending_reason.clear();
    // A restart takes its previous nodes first, then spares on their
    // leaves (elastic.h).
    std::vector<CandidateNode> candidates;
    for (std::size_t n : fitting) {
      candidates.push_back({free[n].node_id, LeafOf(*job, free[n].host())});
    }
    std::vector<std::size_t> preferred;
    for (std::size_t k :
         PreferNodes(candidates, job->previous_nodes, job->previous_leaves)) {
      preferred.push_back(fitting[k]);
    }
    fitting = std::move(preferred);
    fitting.insert(fitting.end(), fitting_cordoned.begin(),
                   fitting_cordoned.begin() + cordoned_taken);
    const std::size_t take = std::min(
        fitting.size(), static_cast<std::size_t>(job->spec.nodes_max()));
    std::vector<std::size_t> taken(fitting.begin(), fitting.begin() + take);
    // Registration order among the taken (the plan, or node_rank, orders
    // them from there).
    std::sort(taken.begin(), taken.end());
    std::vector<NodeInfo> mine;
    for (std::size_t n : taken) mine.push_back(free[n]);
    for (std::size_t k = taken.size(); k-- > 0;) {
      free.erase(free.begin() + static_cast<std::ptrdiff_t>(taken[k]));
    }
    StartLocked(job, mine, effects);
  }
}

void JobManager::StartLocked(Job* job, const std::vector<NodeInfo>& given,
                             Effects* effects) {
  const int ppn = job->spec.procs_per_node();
  // The job stays PENDING until its placement holds: a job that cannot be
  // laid out fails from PENDING, never having started.
  // With a cluster description the plan decides the node order (and so
  // the rank order); otherwise registration order.
  std::vector<NodeInfo> nodes = given;
  std::vector<std::map<std::string, std::string>> plan_env(nodes.size());
  if (!job->cluster_error.empty()) {
    // Restored running, its description unreadable since: a new attempt
    // cannot be placed as the job asked.
    job->nodes.clear();
    EndLocked(job, proto::JOB_FAILED, "topology plan: " + job->cluster_error,
              /*stop_workers=*/false, effects);
    return;
  }
  if (job->cluster != nullptr) {
    std::vector<std::string> hostnames;
    for (const NodeInfo& node : given) hostnames.push_back(node.host());
    StatusOr<JobPlan> plan = PlanJob(*job->cluster, hostnames, ppn);
    if (!plan.ok()) {
      job->nodes.clear();
      EndLocked(job, proto::JOB_FAILED,
                "topology plan: " + plan.status().message(),
                /*stop_workers=*/false, effects);
      return;
    }
    nodes.clear();
    for (int i : plan->node_order) nodes.push_back(given[i]);
    plan_env = plan->env;
    job->placement = plan->placement;
    job->communicators = plan->communicators;
    job->grad_routes = plan->grad_routes;
  }
  job->world_size = static_cast<int>(nodes.size()) * ppn;
  job->nodes.clear();
  job->ranks.clear();
  std::vector<std::string> node_order;
  for (const NodeInfo& node : nodes) {
    job->nodes.push_back(
        Placement{node.node_id, node.host(), node.agent_address});
    node_order.push_back(node.node_id);
  }
  // Every layout is checked before anything is started on it.
  StatusOr<std::vector<topology::RankSlot>> slots =
      topology::LayOutRanks(node_order, ppn);
  Status valid =
      slots.ok() ? topology::ValidateRankLayout(*slots) : slots.status();
  if (!valid.ok()) {
    EndLocked(job, proto::JOB_FAILED,
              "no valid rank layout: " + valid.message(),
              /*stop_workers=*/false, effects);
    return;
  }
  for (const topology::RankSlot& slot : *slots) {
    proto::RankAssignment a;
    a.set_rank(slot.rank);
    a.set_local_rank(slot.local_rank);
    a.set_node_rank(slot.node_rank);
    a.set_node_id(slot.node_id);
    a.set_host(nodes[slot.node_rank].host());
    job->ranks.push_back(a);
  }
  // Ranks on several nodes reach each other at an address the coordinator
  // picks per node, never through the machine's hostname.
  std::vector<std::string> comm_hosts(nodes.size());
  if (nodes.size() > 1) {
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      const proto::NodeInventory& inv = nodes[n].inventory;
      StatusOr<std::string> a =
          PickNodeAddress(nodes[n].host(),
                          std::vector<std::string>(inv.addresses().begin(),
                                                   inv.addresses().end()),
                          nodes[n].agent_address, options_.node_network);
      if (!a.ok()) {
        EndLocked(job, proto::JOB_FAILED, a.status().message(),
                  /*stop_workers=*/false, effects);
        return;
      }
      comm_hosts[n] = *a;
    }
  }
  // A fresh credential per attempt: one of an earlier attempt, or of
  // another job, opens nothing here.
  StatusOr<std::string> secret = rpc::GenerateToken();
  if (!secret.ok()) {
    EndLocked(job, proto::JOB_FAILED,
              "cannot make a job credential: " + secret.status().message(),
              /*stop_workers=*/false, effects);
    return;
  }
  const std::string credential = job->id + "." + *secret;
  // Only its digest is kept, and recorded with the placement, so that a
  // restarted coordinator still knows the workers: the credential itself
  // goes to the agents and nowhere else.
  job->credential_sha256 = rpc::TokenDigest(credential);
  // An elastic job off its full size keeps its global batch (elastic.h).
  proto::JobSpec spec = job->spec;
  std::string placed = PlacedOn(nodes);
  if (spec.grad_accum() > 0 && spec.micro_batch() > 0) {
    const ElasticBatch batch =
        KeepGlobalBatch(ppn, spec.nodes_max(), static_cast<int>(nodes.size()),
                        spec.micro_batch(), spec.grad_accum());
    if (batch.grad_accum != spec.grad_accum()) {
      spec.add_overrides("train.grad_accum=" +
                         std::to_string(batch.grad_accum));
    }
    if (!batch.note.empty()) placed += "; " + batch.note;
  }
  TransitionLocked(job, proto::JOB_STARTING, placed, /*placed=*/true, effects);
  job->starts_pending = static_cast<int>(nodes.size());
  for (std::size_t n = 0; n < job->nodes.size(); ++n) {
    const Placement& p = job->nodes[n];
    proto::StartWorkersRequest request;
    request.set_job_id(job->id);
    request.set_attempt(job->attempt);
    *request.mutable_spec() = spec;
    request.set_world_size(job->world_size);
    for (int l = 0; l < ppn; ++l) {
      *request.add_ranks() = job->ranks[n * ppn + l];
    }
    auto& env = *request.mutable_env();
    for (const auto& [k, v] : plan_env[n]) env[k] = v;
    if (!comm_hosts[n].empty()) env[contract::kCommHost] = comm_hosts[n];
    for (const proto::SubCommunicator& c : job->communicators)
      *request.add_communicators() = c;
    for (const GradRoute& r : job->grad_routes) {
      proto::GradRoute* route = request.add_grad_routes();
      route->set_min_bytes(r.min_bytes);
      route->set_via(r.via);
    }
    request.set_num_nodes(static_cast<int>(job->nodes.size()));
    request.set_job_token(credential);
    request.set_coordinator_address(coordinator_address_);
    effects->agent_calls.push_back([this, request = std::move(request),
                                    address = p.agent_address,
                                    node_id = p.node_id] {
      StatusOr<proto::StartWorkersResponse> r =
          agents_->StartWorkers(address, request);
      OnStartResult(request.job_id(), request.attempt(), node_id, r.status());
    });
  }
}

void JobManager::OnStartResult(const std::string& job_id, int attempt,
                               const std::string& node_id,
                               const Status& status) {
  Effects effects;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job* job = FindLocked(job_id);
    // A job that ended meanwhile (a fast exit, a cancel) stays ended.
    if (job == nullptr || job->attempt != attempt ||
        job->state != proto::JOB_STARTING) {
      return;
    }
    if (!status.ok()) {
      std::string host = node_id;
      for (const Placement& p : job->nodes) {
        if (p.node_id == node_id) host = p.host;
      }
      EndLocked(job, proto::JOB_FAILED,
                "could not start workers on " + host + ": " + status.message(),
                /*stop_workers=*/true, &effects);
    } else if (--job->starts_pending == 0) {
      const std::size_t n = job->nodes.size();
      TransitionLocked(job, proto::JOB_RUNNING,
                       "workers started on " + std::to_string(n) + " node" +
                           (n == 1 ? "" : "s"),
                       /*placed=*/false, &effects);
    }
  }
  Apply(&effects);
}

void JobManager::EndLocked(Job* job, proto::JobState state,
                           const std::string& reason, bool stop_workers,
                           Effects* effects) {
  job->reason = reason;
  TransitionLocked(
      job, state,
      reason.empty() ? std::string("every rank exited with code 0") : reason,
      /*placed=*/false, effects);
  effects->dropped_namespaces.emplace_back(
      job->id,
      Status(StatusCode::kAborted,
             "job " + job->id + " ended: " +
                 (reason.empty() ? std::string("succeeded") : reason)));
  job->restarting = false;
  if (stop_workers) {
    StopWorkersLocked(*job, reason,
                      state == proto::JOB_FAILED ? 0 : options_.stop_grace_s,
                      effects);
  }
  // The nodes are free again: the next pending job may fit.
  ScheduleLocked(effects);
}

void JobManager::StopWorkersLocked(const Job& job, const std::string& reason,
                                   double grace_s, Effects* effects) {
  for (const Placement& p : job.nodes) {
    if (p.lost) continue;  // unreachable; its workers die with their node
    proto::StopWorkersRequest request;
    request.set_job_id(job.id);
    request.set_reason(reason);
    request.set_grace_s(grace_s);
    effects->agent_calls.push_back(
        [this, request = std::move(request), address = p.agent_address] {
          // Best effort: an agent that cannot be reached is either gone
          // (its node will be declared lost) or will find its workers
          // failing their next rendezvous or collective. The executor is
          // serial, so a restart's StartWorkers never overtakes this.
          (void)agents_->StopWorkers(address, request);
        });
  }
}

std::string JobManager::LeafOf(const Job& job, const std::string& host) {
  if (job.cluster == nullptr) return "";
  const topology::Cluster& c = job.cluster->cluster;
  const topology::VertexId v = c.Find(host);
  if (!c.IsHost(v)) return "";
  const topology::VertexId leaf = c.LeafOf(v);
  return leaf == topology::kNoVertex ? "" : c.vertex(leaf).name;
}

bool JobManager::ReviseRootCauseLocked(Job* job, const Job::Failure& failure,
                                       Effects* effects) {
  if (!job->root_cause.has_value() || failure.at >= job->root_cause->at) {
    return false;
  }
  const Job::Failure was = *job->root_cause;
  job->root_cause = failure;
  if (was.rank >= 0) {
    auto e = job->exits.find(was.rank);
    if (e != job->exits.end()) e->second.set_collateral(true);
  }
  const std::string why =
      failure.reason + " (before " + was.reason + ", which followed from it)";
  if (job->restarting) {
    job->restart_reason = why;  // the restart's event says it
  } else if (job->state == proto::JOB_FAILED) {
    job->reason = why;
    TransitionLocked(job, proto::JOB_FAILED, "root cause: " + why,
                     /*placed=*/false, effects);
  }
  return true;
}

std::string JobManager::MarkCollateralLocked(Job* job) {
  std::string ranks;
  for (auto& [rank, e] : job->exits) {
    if (job->root_cause.has_value() && job->root_cause->rank == rank) continue;
    if (!rpc::IsFailure(e) || contract::IsRequeue(e.exit_code(), e.signal())) {
      continue;
    }
    e.set_collateral(true);
    ranks += (ranks.empty() ? "" : ", ") + std::to_string(rank);
  }
  return ranks;
}

void JobManager::NoteNodeFailureLocked(Job* job, Effects* effects) {
  if (options_.cordon_after_failures <= 0 || !job->root_cause.has_value() ||
      job->root_cause->node_id.empty()) {
    return;
  }
  std::string host = job->root_cause->node_id;
  for (const Placement& p : job->nodes) {
    if (p.node_id == job->root_cause->node_id) host = p.host;
  }
  // By hostname: a lost node registers again under a new id.
  std::deque<Clock::TimePoint>& times = node_failures_[host];
  const Clock::TimePoint now = clock_->Now();
  times.push_back(now);
  while (!times.empty() && now - times.front() > options_.cordon_window) {
    times.pop_front();
  }
  if (static_cast<int>(times.size()) < options_.cordon_after_failures) return;
  const auto minutes = [](Clock::Duration d) {
    return std::to_string(
               std::chrono::duration_cast<std::chrono::minutes>(d).count()) +
           " min";
  };
  const std::string reason = std::to_string(times.size()) + " failures in " +
                             minutes(options_.cordon_window) +
                             ", the latest: " + job->root_cause->reason;
  times.clear();
  for (StoredNode& record : nodes_->Cordon(host, options_.cordon_for, reason)) {
    effects->node_writes.push_back(std::move(record));
  }
  TransitionLocked(job, job->state,
                   "node " + host + " cordoned for " +
                       minutes(options_.cordon_for) + ": " + reason,
                   /*placed=*/false, effects);
}

void JobManager::FailOrRestartLocked(Job* job, const Job::Failure& failure,
                                     Effects* effects) {
  if (job->restarting) {
    // On its way to the next attempt: this failure is collateral, unless
    // it happened first.
    ReviseRootCauseLocked(job, failure, effects);
    return;
  }
  job->root_cause = failure;
  const std::string& reason = failure.reason;
  if (job->preempting) {
    // A rank killed before its checkpoint was written (the warning was
    // too short) or failing on the way: the job was asked to stop.
    // Every agent is stopping its workers with the warning as their grace
    // already; a failed rank's own agent stops its others at once.
    EndLocked(job, proto::JOB_CANCELLED,
              "preempted, but not every rank wrote its checkpoint within "
              "the " +
                  FormatLatency(job->preempt_warning_s) +
                  " warning: " + reason +
                  " (--resume goes on from the newest complete checkpoint)",
              /*stop_workers=*/false, effects);
    return;
  }
  if (job->attempt >= job->spec.max_restarts()) {
    EndLocked(job, proto::JOB_FAILED, reason, /*stop_workers=*/true, effects);
    job->ended_at = clock_->Now();
    NoteNodeFailureLocked(job, effects);
    return;
  }
  // Restarts are for what a restart can mend. The same failure at the
  // same step as the attempt before, or an attempt that resumed where the
  // one before did (no newer checkpoint) and failed no further on, will
  // fail again: the job stops here instead of spending every restart.
  int fail_step = 0;
  for (const auto& [rank, m] : job->latest) {
    fail_step = std::max(fail_step, m.step());
  }
  std::vector<std::string> hosts;
  for (const Placement& p : job->nodes) hosts.push_back(p.host);
  const std::string signature =
      FailureSignature(reason, hosts) + " @" + std::to_string(fail_step);
  const int left = job->spec.max_restarts() - job->attempt;
  const std::string unspent = "; not restarting what cannot succeed (" +
                              std::to_string(left) + " restart" +
                              (left == 1 ? "" : "s") + " left)";
  if (job->attempt > 0 && signature == job->previous_failure) {
    EndLocked(job, proto::JOB_FAILED,
              "the same failure as attempt " +
                  std::to_string(job->attempt - 1) + ", at step " +
                  std::to_string(fail_step) + ": " + reason + unspent,
              /*stop_workers=*/true, effects);
    return;
  }
  if (job->attempt > 0 && job->first_step >= 0 &&
      job->first_step == job->previous_first_step &&
      fail_step <= job->previous_fail_step) {
    EndLocked(job, proto::JOB_FAILED,
              "attempts " + std::to_string(job->attempt - 1) + " and " +
                  std::to_string(job->attempt) + " both resumed at step " +
                  std::to_string(job->first_step) +
                  " (no newer checkpoint) and failed by step " +
                  std::to_string(job->previous_fail_step) + ": " + reason +
                  unspent,
              /*stop_workers=*/true, effects);
    return;
  }
  job->previous_failure = signature;
  job->previous_first_step = job->first_step;
  job->previous_fail_step = fail_step;
  job->restarting = true;
  job->restart_reason = reason;
  // Seen now, in the events (the detection time), though the restart
  // itself waits for every worker of the attempt to be gone.
  TransitionLocked(job, job->state,
                   reason + "; restarting: stopping every rank",
                   /*placed=*/false, effects);
  StopWorkersLocked(*job, reason, /*grace_s=*/0, effects);
  MaybeRestartLocked(job, effects);
}

void JobManager::MaybeRestartLocked(Job* job, Effects* effects) {
  if (!job->restarting) return;
  for (const proto::RankAssignment& a : job->ranks) {
    if (job->exits.count(a.rank()) == 0 && !job->nodes[a.node_rank()].lost) {
      return;  // still running, or its exit is not reported yet
    }
  }
  // Every worker of the failed attempt is gone: no rank of it can still
  // touch the checkpoint directory or the next attempt's rendezvous keys.
  // The root cause is final now.
  const std::string collateral = MarkCollateralLocked(job);
  const std::string collateral_note =
      collateral.empty()
          ? std::string()
          : std::string("; collateral: rank") +
                (collateral.find(',') == std::string::npos ? " " : "s ") +
                collateral + " stopped because of it";
  NoteNodeFailureLocked(job, effects);
  job->previous_nodes.clear();
  job->previous_leaves.clear();
  for (const Placement& p : job->nodes) {
    if (!p.lost) job->previous_nodes.insert(p.node_id);
    // A lost node's leaf too: a spare there takes its place best.
    const std::string leaf = LeafOf(*job, p.host);
    if (!leaf.empty()) job->previous_leaves.insert(leaf);
  }
  job->restarting = false;
  job->root_cause.reset();
  ++job->attempt;
  job->nodes.clear();
  job->ranks.clear();
  job->exits.clear();
  job->latest.clear();
  job->results.clear();
  job->first_step = -1;
  job->work.clear();
  job->window_start = 0;
  job->slow_before.clear();
  job->stragglers_reported.clear();
  job->stragglers.clear();
  job->starts_pending = 0;
  TransitionLocked(job, proto::JOB_PENDING,
                   "restart " + std::to_string(job->attempt) + " of " +
                       std::to_string(job->spec.max_restarts()) + ": " +
                       job->restart_reason + collateral_note,
                   /*placed=*/false, effects);
  ScheduleLocked(effects);
}

void JobManager::Apply(Effects* effects) {
  // On disk before anything acts on it: no agent starts workers for a
  // placement a crash could take back.
  for (GroupCommit::Ticket t : effects->writes) {
    NoteStore(commit_.Await(t), effects);
  }
  effects->writes.clear();
  for (const StoredNode& record : effects->node_writes) {
    NoteStore(nodes_->RecordNode(record), effects);
  }
  effects->node_writes.clear();
  for (auto& [job_id, reason] : effects->dropped_namespaces) {
    kv_->DropJob(job_id, reason);
  }
  for (auto& call : effects->agent_calls) executor_->Post(std::move(call));
}

Status JobManager::CheckExitLocked(const std::string& node_id,
                                   const std::string& job_id, int attempt,
                                   const proto::WorkerExit& exit, Job** found) {
  *found = nullptr;
  Job* job = FindLocked(job_id);
  if (job == nullptr) return UnknownJob(job_id);
  if (attempt != job->attempt) return Status::Ok();  // a stale attempt
  if (job->state == proto::JOB_PENDING) {
    return FailedPrecondition("job " + job_id +
                              " has not started; no worker can have exited");
  }
  if (exit.rank() < 0 || exit.rank() >= job->world_size) {
    return InvalidArgument("job " + job_id + " has no rank " +
                           std::to_string(exit.rank()) + " (world size " +
                           std::to_string(job->world_size) + ")");
  }
  const proto::RankAssignment& a = job->ranks[exit.rank()];
  if (!node_id.empty() && a.node_id() != node_id) {
    return InvalidArgument("rank " + std::to_string(exit.rank()) + " of job " +
                           job_id + " runs on node " + a.node_id() + ", not " +
                           node_id);
  }
  *found = job;
  return Status::Ok();
}

Status JobManager::ReportWorkerExit(const std::string& node_id,
                                    const std::string& job_id, int attempt,
                                    const proto::WorkerExit& exit) {
  bool record = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job* job = nullptr;
    DSTRAIN_RETURN_IF_ERROR(
        CheckExitLocked(node_id, job_id, attempt, exit, &job));
    if (job == nullptr) return Status::Ok();
    record = job->exits.count(exit.rank()) == 0;
  }
  if (record) {
    // Not applied unless recorded (the agent retries an exit the
    // coordinator could not take, UNAVAILABLE); written without mu_ held.
    // The store keeps the first exit of a rank, so two reports of it racing
    // here record one.
    const Status recorded =
        commit_.Await(commit_.Enqueue([job_id, attempt, exit](StateStore& s) {
          return s.RecordExit(job_id, attempt, exit);
        }));
    if (!recorded.ok()) {
      log::Error("coordinator: " + recorded.message());
      return recorded;
    }
  }
  Effects effects;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Checked again: the job may have moved on while the exit was written.
    Job* job = nullptr;
    DSTRAIN_RETURN_IF_ERROR(
        CheckExitLocked(node_id, job_id, attempt, exit, &job));
    if (job == nullptr) return Status::Ok();
    const proto::RankAssignment& a = job->ranks[exit.rank()];
    const bool inserted = job->exits.emplace(exit.rank(), exit).second;
    // A failed exit after the attempt's root cause was torn down because
    // of it (a later one that happened first revises the root cause, in
    // OnNodesLost).
    if (inserted && job->root_cause.has_value() &&
        (job->restarting || IsEnded(job->state)) && rpc::IsFailure(exit) &&
        !contract::IsRequeue(exit.exit_code(), exit.signal())) {
      job->exits[exit.rank()].set_collateral(true);
    }
    if (IsEnded(job->state)) return Status::Ok();
    const auto requeue = [](const proto::WorkerExit& e) {
      return contract::IsRequeue(e.exit_code(), e.signal());
    };
    if (job->restarting) {
      MaybeRestartLocked(job, &effects);
    } else if (rpc::IsFailure(exit) && !requeue(exit)) {
      FailOrRestartLocked(job,
                          {DescribeExit(exit, job->nodes[a.node_rank()].host),
                           clock_->Now(), a.node_id(), exit.rank()},
                          &effects);
    } else if (static_cast<int>(job->exits.size()) == job->world_size) {
      // Every rank has reported and none failed (a failure ends the job
      // before this point). Ranks that stopped on request with a
      // checkpoint (preemption) end it CANCELLED, to be run again with
      // --resume; not restarted here.
      int stopped = 0;
      for (const auto& [rank, e] : job->exits) stopped += requeue(e);
      if (stopped > 0) {
        int step = 0;
        for (const auto& [rank, m] : job->latest) {
          step = std::max(step, m.step());
        }
        EndLocked(job, proto::JOB_CANCELLED,
                  "preempted: every rank stopped on request after step " +
                      std::to_string(step) + " with a checkpoint of it (exit " +
                      std::to_string(contract::kExitRequeue) +
                      ": requeue; --resume goes on from step " +
                      std::to_string(step + 1) + ")",
                  /*stop_workers=*/false, &effects);
      } else {
        EndLocked(job, proto::JOB_SUCCEEDED, "", /*stop_workers=*/false,
                  &effects);
      }
    }
  }
  Apply(&effects);
  return effects.store_error;
}

namespace {

// Whether `b` is further than `a`: any change of step, phase or a
// collective's numbers (the process state is not progress).
bool Progressed(const proto::RankProgress& a, const proto::RankProgress& b) {
  if (a.step() != b.step() || a.phase() != b.phase() ||
      a.comms_size() != b.comms_size()) {
    return true;
  }
  for (int i = 0; i < a.comms_size(); ++i) {
    if (a.comms(i).started_seq() != b.comms(i).started_seq() ||
        a.comms(i).completed_seq() != b.comms(i).completed_seq()) {
      return true;
    }
  }
  return false;
}

}  // namespace

void JobManager::ReportProgress(
    const std::string& node_id,
    const std::vector<proto::RankProgress>& progress) {
  if (progress.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::TimePoint now = clock_->Now();
  for (const proto::RankProgress& p : progress) {
    Job* job = FindLocked(p.job_id());
    if (job == nullptr || job->state != proto::JOB_RUNNING ||
        job->attempt != p.attempt() || p.rank() < 0 ||
        p.rank() >= static_cast<int>(job->ranks.size()) ||
        job->ranks[p.rank()].node_id() != node_id) {
      continue;
    }
    auto it = job->progress.find(p.rank());
    if (it == job->progress.end()) {
      job->progress.emplace(p.rank(), Job::Progress{p, now});
    } else {
      if (Progressed(it->second.last, p)) it->second.changed_at = now;
      it->second.last = p;
    }
  }
}

void JobManager::CheckHangs() {
  Effects effects;
  // Each hang found, for fetching its culprits' last lines afterwards.
  struct Hung {
    std::string job_id;
    int attempt = 0;
    std::int64_t detected_us = 0;
    std::map<std::string, std::vector<int>> culprits_by_agent;
  };
  std::vector<Hung> hung;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::TimePoint now = clock_->Now();
    for (auto& [id, job] : jobs_) {
      if (job.state != proto::JOB_RUNNING || job.restarting ||
          job.progress.empty() || !(job.spec.hang_timeout_s() > 0)) {
        continue;
      }
      Clock::TimePoint last = job.progress_since;
      bool checkpointing = false;
      for (const auto& [rank, p] : job.progress) {
        if (job.exits.count(rank) != 0) continue;
        last = std::max(last, p.changed_at);
        checkpointing = checkpointing || p.last.phase() == "checkpoint";
      }
      const double limit =
          job.spec.hang_timeout_s() * (checkpointing ? 10.0 : 1.0);
      const double stalled = Seconds(now - last);
      if (stalled < limit) continue;
      std::vector<RankView> views;
      for (const proto::RankAssignment& a : job.ranks) {
        if (job.exits.count(a.rank()) != 0) continue;
        RankView v;
        v.rank = a.rank();
        v.host = a.host();
        auto p = job.progress.find(a.rank());
        if (p != job.progress.end()) {
          v.has_progress = true;
          v.progress = p->second.last;
        }
        views.push_back(std::move(v));
      }
      proto::HangReport report = DescribeHang(views, stalled);
      report.set_detected_unix_us(clock_->UnixMicros());
      Hung& found = hung.emplace_back(
          Hung{id, job.attempt, report.detected_unix_us(), {}});
      for (const proto::HangRank& c : report.culprits()) {
        const proto::RankAssignment& a = job.ranks[c.rank()];
        const Placement& node = job.nodes[a.node_rank()];
        if (!node.lost) {
          found.culprits_by_agent[node.agent_address].push_back(c.rank());
        }
      }
      job.hang = report;
      log::Warn("coordinator: job " + id + " hangs: " + report.summary());
      FailOrRestartLocked(&job, {"hang: " + report.summary(), clock_->Now()},
                          &effects);
    }
  }
  Apply(&effects);
  for (const Hung& h : hung) {
    FetchHangLogs(h.job_id, h.attempt, h.detected_us, h.culprits_by_agent);
  }
}

void JobManager::CheckStragglers() {
  Effects effects;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, job] : jobs_) {
      const int window = job.spec.straggler_window_steps();
      if (job.state != proto::JOB_RUNNING || job.restarting ||
          !(job.spec.straggler_factor() > 1) || window < 1) {
        continue;
      }
      auto rank0 = job.latest.find(0);
      if (rank0 == job.latest.end()) continue;
      const int step = rank0->second.step();
      if (job.window_start == 0 || step < job.window_start) {
        job.window_start = step;  // the attempt's first window
        job.work.clear();
        continue;
      }
      if (step < job.window_start + window) continue;
      std::vector<RankWork> ranks;
      for (const auto& [rank, w] : job.work) {
        if (w.second == 0 || rank >= static_cast<int>(job.ranks.size())) {
          continue;
        }
        RankWork r;
        r.rank = rank;
        r.host = job.ranks[rank].host();
        r.leaf = LeafOf(job, r.host);
        r.work_s = w.first / w.second;
        ranks.push_back(std::move(r));
      }
      const Stragglers found =
          FindStragglers(ranks, job.spec.straggler_factor());
      const std::set<int> slow(found.ranks.begin(), found.ranks.end());
      bool persistent = !slow.empty();
      for (int r : slow) persistent = persistent && job.slow_before.count(r);
      const std::string steps = "steps " + std::to_string(job.window_start) +
                                "-" + std::to_string(step);
      if (persistent && slow != job.stragglers_reported) {
        job.stragglers = found.summary + " (" + steps + ")";
        log::Warn("coordinator: job " + id + ": straggler: " + job.stragglers);
        TransitionLocked(&job, job.state, "straggler: " + job.stragglers,
                         /*placed=*/false, &effects);
        job.stragglers_reported = slow;
      } else if (slow.empty()) {
        job.stragglers.clear();
        job.stragglers_reported.clear();
      }
      job.slow_before = slow;
      job.window_start = step;
      job.work.clear();
    }
  }
  Apply(&effects);
}

void JobManager::FetchHangLogs(
    const std::string& job_id, int attempt, std::int64_t detected_us,
    const std::map<std::string, std::vector<int>>& by_agent) {
  constexpr int kLastLines = 5;
  for (const auto& [address, ranks] : by_agent) {
    proto::ReadLogsRequest request;
    request.set_job_id(job_id);
    request.set_attempt(attempt);
    for (int r : ranks) request.add_ranks(r);
    request.set_tail(kLastLines);
    agents_->ReadLogsAsync(
        address, request,
        [this, lifetime = lifetime_, job_id,
         detected_us](StatusOr<proto::ReadLogsResponse> got) {
          if (!got.ok()) return;  // the report stands without them
          std::lock_guard<std::mutex> alive(lifetime->mu);
          if (!lifetime->alive) return;
          std::lock_guard<std::mutex> lock(mu_);
          Job* job = FindLocked(job_id);
          // Only into the report this call was made for.
          if (job == nullptr || !job->hang.has_value() ||
              job->hang->detected_unix_us() != detected_us) {
            return;
          }
          for (proto::HangRank& c : *job->hang->mutable_culprits()) {
            for (const proto::LogLine& line : got->lines()) {
              if (line.rank() == c.rank()) c.add_last_lines(line.text());
            }
          }
        });
  }
}

void JobManager::OnNodesLost(const std::vector<std::string>& node_ids) {
  if (node_ids.empty()) return;
  std::set<std::string> lost(node_ids.begin(), node_ids.end());
  Effects effects;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::TimePoint now = clock_->Now();
    for (auto& [id, job] : jobs_) {
      // A job that failed just before may have failed because of this
      // node (a peer's broken connection came first): its root cause is
      // revised below. A minute covers any sane heartbeat setting.
      const bool just_failed = job.state == proto::JOB_FAILED &&
                               job.root_cause.has_value() &&
                               now - job.ended_at < std::chrono::minutes(1);
      if (!IsActive(job.state) && !just_failed) continue;
      std::optional<Job::Failure> first;
      for (Placement& p : job.nodes) {
        if (lost.count(p.node_id) == 0) continue;
        // When it failed: at its last heartbeat, for a node that had one
        // in this run.
        Job::Failure f{"node " + p.host +
                           (p.awaiting ? " did not register again after the "
                                         "coordinator restarted"
                                       : " stopped heartbeating"),
                       now, p.node_id, -1};
        const std::optional<NodeInfo> node = nodes_->Get(p.node_id);
        if (!p.awaiting && node.has_value()) f.at = node->last_heartbeat;
        if (!first.has_value() || f.at < first->at) first = f;
        p.lost = true;
        p.awaiting = false;
      }
      if (!first.has_value()) continue;
      if (just_failed) {
        ReviseRootCauseLocked(&job, *first, &effects);
      } else if (job.restarting) {
        ReviseRootCauseLocked(&job, *first, &effects);
        MaybeRestartLocked(&job, &effects);
      } else {
        FailOrRestartLocked(&job, *first, &effects);
      }
    }
  }
  Apply(&effects);
}

Status JobManager::CancelJob(const std::string& job_id,
                             const std::string& reason) {
  Effects effects;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job* job = FindLocked(job_id);
    if (job == nullptr) return UnknownJob(job_id);
    if (IsEnded(job->state)) return Status::Ok();
    EndLocked(job, proto::JOB_CANCELLED,
              reason.empty() ? std::string("cancelled") : reason,
              /*stop_workers=*/IsActive(job->state), &effects);
  }
  Apply(&effects);
  return effects.store_error;
}

StatusOr<PreemptEstimate> JobManager::PreemptJob(const std::string& job_id,
                                                 double warning_s,
                                                 const std::string& reason) {
  if (!(warning_s >= 1)) {
    return InvalidArgument("--warning " + FormatLatency(warning_s) +
                           ": a preemption needs at least 1 s for the "
                           "workers to finish their step and checkpoint");
  }
  PreemptEstimate estimate;
  Effects effects;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Job* job = FindLocked(job_id);
    if (job == nullptr) return UnknownJob(job_id);
    if (IsEnded(job->state)) {
      return FailedPrecondition("job " + job_id + " has ended (" +
                                proto::JobState_Name(job->state) +
                                "); nothing to preempt");
    }
    const std::string why = reason.empty() ? std::string("preempted") : reason;
    if (!IsActive(job->state) || job->restarting) {
      // No worker to checkpoint (a restart's workers are gone or going):
      // --resume starts from the newest complete checkpoint.
      EndLocked(job, proto::JOB_CANCELLED,
                why + " while " +
                    (job->restarting ? std::string("restarting")
                                     : std::string("pending")) +
                    " (--resume goes on from the newest complete checkpoint)",
                /*stop_workers=*/IsActive(job->state), &effects);
    } else {
      double step_s = 0;
      for (const auto& [rank, m] : job->latest) {
        step_s = std::max(step_s, m.step_time_s());
      }
      if (!job->checkpoint_seconds.empty()) {
        const double ckpt = *std::max_element(job->checkpoint_seconds.begin(),
                                              job->checkpoint_seconds.end());
        estimate.checkpoint_estimate_s = step_s + ckpt;
        estimate.fits = estimate.checkpoint_estimate_s <= warning_s;
        estimate.how = "step " + FormatLatency(step_s) + " + checkpoint " +
                       FormatLatency(ckpt) + " (slowest of the last " +
                       std::to_string(job->checkpoint_seconds.size()) + ")";
      } else {
        estimate.how = "no checkpoint written yet in this coordinator's run";
      }
      job->preempting = true;
      job->preempt_warning_s = warning_s;
      TransitionLocked(
          job, job->state,
          why + ": stopping with a checkpoint within " +
              FormatLatency(warning_s) + " (expected " +
              (estimate.checkpoint_estimate_s < 0
                   ? std::string("unknown: ")
                   : FormatLatency(estimate.checkpoint_estimate_s) + ", " +
                         (estimate.fits ? "fits: " : "does NOT fit: ")) +
              estimate.how + ")",
          /*placed=*/false, &effects);
      for (const Placement& p : job->nodes) {
        if (p.lost) continue;
        proto::StopWorkersRequest request;
        request.set_job_id(job->id);
        request.set_reason(why);
        request.set_grace_s(warning_s);
        effects.agent_calls.push_back(
            [this, request = std::move(request), address = p.agent_address] {
              (void)agents_->StopWorkers(address, request);
            });
      }
    }
  }
  Apply(&effects);
  if (!effects.store_error.ok()) return effects.store_error;
  return estimate;
}

Status JobManager::ReportMetrics(const proto::ReportMetricsRequest& request) {
  std::optional<GroupCommit::Ticket> written;
  const Status taken = TakeMetrics(request, &written);
  if (!written.has_value()) return taken;
  const Status recorded = commit_.Await(*written);
  if (!recorded.ok()) {
    log::Error("coordinator: " + recorded.message());
    if (taken.ok()) return recorded;
  }
  return taken;
}

Status JobManager::TakeMetrics(const proto::ReportMetricsRequest& request,
                               std::optional<GroupCommit::Ticket>* written) {
  std::lock_guard<std::mutex> lock(mu_);
  // What this call changes in rank 0's histories and the results, written
  // to the store as one transaction at the end.
  MetricsBatch batch;
  std::map<std::string, std::size_t> change_of;  // job id -> batch.steps
  const auto steps_of = [&](const std::string& job_id) -> StepsChange& {
    auto [it, added] = change_of.emplace(job_id, batch.steps.size());
    if (added) batch.steps.push_back(StepsChange{job_id, {}, {}, {}});
    return batch.steps[it->second];
  };
  const Status taken = [&]() -> Status {
    for (const proto::StepMetrics& m : request.metrics()) {
      const std::string& job_id =
          m.job_id().empty() ? request.job_id() : m.job_id();
      Job* job = FindLocked(job_id);
      if (job == nullptr) return UnknownJob(job_id);
      if (m.attempt() != job->attempt) continue;
      if (m.rank() < 0 || m.rank() >= job->world_size) {
        return InvalidArgument("job " + job_id + " has no rank " +
                               std::to_string(m.rank()) + " (world size " +
                               std::to_string(job->world_size) + ")");
      }
      proto::StepMetrics& latest = job->latest[m.rank()];
      latest = m;
      latest.set_job_id(job_id);
      auto& [work_s, work_steps] = job->work[m.rank()];
      work_s +=
          std::max(0.0, m.step_time_s() - m.comm_time_s() - m.data_wait_s());
      ++work_steps;
      if (m.rank() != 0) continue;
      if (m.checkpoint_s() > 0) {
        job->checkpoint_seconds.push_back(m.checkpoint_s());
        while (job->checkpoint_seconds.size() > 3) {
          job->checkpoint_seconds.pop_front();
        }
      }
      if (job->first_step < 0 || m.step() < job->first_step) {
        job->first_step = m.step();
      }
      if (!job->history.empty() &&
          m.attempt() > job->history.back().attempt()) {
        // A restarted attempt repeats the steps after its checkpoint: they
        // replace the failed attempt's from there on.
        while (!job->history.empty() &&
               job->history.back().step() >= m.step()) {
          job->history.pop_back();
        }
        // Only the first step of a new attempt gets here, before any of
        // its steps is added to the batch.
        steps_of(job_id).drop_from_step = m.step();
      }
      if (!job->history.empty() && m.step() <= job->history.back().step()) {
        continue;  // a repeat or a late arrival; history stays increasing
      }
      job->history.push_back(latest);
      job->step_seconds_sum += m.step_time_s();
      ++job->steps_observed;
      if (job->startup_s < 0 && job->running_us > 0) {
        job->startup_s =
            static_cast<double>(clock_->UnixMicros() - job->running_us) / 1e6;
      }
      StepsChange& change = steps_of(job_id);
      change.steps.push_back(latest);
      if (job->history.size() > options_.max_history) {
        while (job->history.size() > options_.max_history) {
          job->history.pop_front();
        }
        change.drop_before_step = job->history.empty()
                                      ? latest.step() + 1
                                      : job->history.front().step();
      }
    }
    if (request.results_size() > 0) {
      std::string job_id = request.job_id();
      if (job_id.empty() && request.metrics_size() > 0) {
        job_id = request.metrics(0).job_id();
      }
      if (job_id.empty()) {
        return InvalidArgument(
            "ReportMetrics: results need the request's job_id");
      }
      Job* job = FindLocked(job_id);
      if (job == nullptr) return UnknownJob(job_id);
      if (request.attempt() != job->attempt) return Status::Ok();
      batch.results_job_id = job_id;
      batch.results_attempt = job->attempt;
      for (const proto::RankResult& r : request.results()) {
        if (r.rank() < 0 || r.rank() >= job->world_size) {
          return InvalidArgument("job " + job_id + " has no rank " +
                                 std::to_string(r.rank()) + " (world size " +
                                 std::to_string(job->world_size) + ")");
        }
        job->results[r.rank()] = r;
        batch.results.push_back(r);
      }
    }
    return Status::Ok();
  }();
  // What was taken before an error is recorded too: the store keeps what
  // memory holds. Queued under mu_, so the store sees the batches in the
  // order memory took them; written after it is released.
  if (!batch.steps.empty() || !batch.results.empty()) {
    *written = commit_.Enqueue([batch = std::move(batch)](StateStore& s) {
      return s.RecordMetrics(batch);
    });
  }
  return taken;
}

JobManager::CredentialCheck JobManager::CheckJobCredential(
    std::string_view token) const {
  CredentialCheck check;
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return check;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(std::string(token.substr(0, dot)));
  if (it == jobs_.end() || it->second.credential_sha256.empty() ||
      !rpc::ConstantTimeEquals(rpc::TokenDigest(token),
                               it->second.credential_sha256)) {
    return check;
  }
  check.known = true;
  check.job_id = it->first;
  check.active = it->second.state == proto::JOB_STARTING ||
                 it->second.state == proto::JOB_RUNNING;
  return check;
}

std::vector<proto::JobSummary> JobManager::ListJobs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<const Job*> ordered;
  for (const auto& [id, job] : jobs_) ordered.push_back(&job);
  std::sort(ordered.begin(), ordered.end(),
            [](const Job* a, const Job* b) { return a->order < b->order; });
  std::vector<proto::JobSummary> out;
  out.reserve(ordered.size());
  for (const Job* job : ordered) {
    proto::JobSummary& s = out.emplace_back();
    s.set_job_id(job->id);
    s.set_name(job->spec.name());
    s.set_state(job->state);
    s.set_nodes(static_cast<int>(job->nodes.size()));
    s.set_world_size(job->world_size);
    s.set_attempt(job->attempt);
    s.set_priority(job->spec.priority());
    s.set_submitted_unix_us(job->submitted_us);
    s.set_reason(job->reason);
    if (job->state == proto::JOB_PENDING) {
      s.set_pending_reason(job->pending_reason);
    }
    // Rank 0's newest step: its latest report, else the history's end.
    const proto::StepMetrics* m = nullptr;
    auto latest = job->latest.find(0);
    if (latest != job->latest.end()) m = &latest->second;
    if (m == nullptr && !job->history.empty()) m = &job->history.back();
    if (m != nullptr) {
      s.set_step(m->step());
      s.set_total_steps(m->total_steps());
      s.set_loss(m->loss());
      s.set_tokens_per_s(m->tokens_per_s());
    }
  }
  return out;
}

std::map<std::string, std::string> JobManager::JobsByNode() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> by_node;
  for (const auto& [id, job] : jobs_) {
    if (!IsActive(job.state)) continue;
    for (const Placement& p : job.nodes) {
      if (!p.lost) by_node[p.node_id] = id;
    }
  }
  return by_node;
}

StatusOr<proto::JobFabric> JobManager::GetJobFabric(
    const std::string& job_id) const {
  std::shared_ptr<const JobCluster> cluster;
  std::vector<FabricPlacement> placed;
  int ppn = 0;
  int attempt = 0;
  std::string placement;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return UnknownJob(job_id);
    const Job& job = it->second;
    cluster = job.cluster;
    ppn = job.spec.procs_per_node();
    attempt = job.attempt;
    placement = job.placement;
    for (const Placement& p : job.nodes) {
      placed.push_back(FabricPlacement{p.node_id, p.host, p.lost});
    }
    // A job ended before this coordinator started has its placement only
    // in its rank assignments.
    for (const proto::RankAssignment& a : job.ranks) {
      const std::size_t n = static_cast<std::size_t>(a.node_rank());
      if (!job.nodes.empty() || n >= job.ranks.size()) continue;
      if (n >= placed.size()) placed.resize(n + 1);
      placed[n].node_id = a.node_id();
      placed[n].hostname = a.host();
    }
  }
  proto::JobFabric fabric = DescribeJobFabric(
      cluster == nullptr ? nullptr : &cluster->cluster, placed, ppn);
  fabric.set_job_id(job_id);
  fabric.set_attempt(attempt);
  fabric.set_placement(placement);
  if (cluster != nullptr && fabric.cluster().empty()) {
    fabric.set_cluster(cluster->path);
  }
  return fabric;
}

StatusOr<proto::JobStatus> JobManager::GetJobStatus(const std::string& job_id,
                                                    int since_step) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return UnknownJob(job_id);
  const Job& job = it->second;
  proto::JobStatus status;
  status.set_job_id(job.id);
  status.set_name(job.spec.name());
  status.set_state(job.state);
  status.set_reason(job.reason);
  if (job.state == proto::JOB_PENDING) {
    status.set_pending_reason(job.pending_reason);
  }
  status.set_world_size(job.world_size);
  status.set_attempt(job.attempt);
  status.set_restart_reason(job.restart_reason);
  status.set_max_restarts(job.spec.max_restarts());
  if (job.hang.has_value()) *status.mutable_hang() = *job.hang;
  status.set_stragglers(job.stragglers);
  status.set_slurm_job_id(job.spec.slurm_job_id());
  for (const proto::RankAssignment& a : job.ranks) *status.add_ranks() = a;
  for (const auto& [rank, m] : job.latest) *status.add_latest() = m;
  auto first = std::upper_bound(
      job.history.begin(), job.history.end(), since_step,
      [](int step, const proto::StepMetrics& m) { return step < m.step(); });
  for (auto h = first; h != job.history.end(); ++h) *status.add_history() = *h;
  for (const auto& [rank, r] : job.results) *status.add_results() = r;
  for (const auto& [rank, e] : job.exits) *status.add_exits() = e;
  // An ended job's from its record, the same before and after a restart;
  // a live one's on the steady clock, unless it began in an earlier run.
  if (IsEnded(job.state) || job.restored) {
    const std::int64_t end =
        IsEnded(job.state) ? job.ended_us : clock_->UnixMicros();
    status.set_elapsed_s(static_cast<double>(end - job.submitted_us) / 1e6);
  } else {
    status.set_elapsed_s(Seconds(clock_->Now() - job.launched_at));
  }
  for (const proto::JobEvent& e : job.events) *status.add_events() = e;
  status.set_placement(job.placement);
  for (const proto::SubCommunicator& c : job.communicators)
    *status.add_communicators() = c;
  status.set_grad_allreduce(FormatGradRoutes(job.grad_routes));
  status.set_step_time_sum_s(job.step_seconds_sum);
  status.set_steps_observed(job.steps_observed);
  status.set_startup_s(job.startup_s);
  return status;
}

}  // namespace dstrain::coordinator
