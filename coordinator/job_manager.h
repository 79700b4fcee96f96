#pragma once
// Jobs from launch to their end. Knows nothing of gRPC.
//
// LaunchJob puts a job in PENDING and opens its rendezvous namespace. When
// at least spec.nodes_min free live nodes are registered (free: not in a
// STARTING or RUNNING job), the first pending job in queue order (higher
// spec.priority first, then submission order; a later job never overtakes
// one waiting for more nodes) takes up to spec.nodes_max of them in
// registration order, gets ranks (rank = node_rank * procs_per_node
// + local_rank) and goes STARTING; StartWorkers is called on each node's
// agent, and when every agent has answered the job is RUNNING.
//
// Topology: when the spec names a cluster description
// (spec.topology.cluster_path), LaunchJob loads it (a bad file is
// INVALID_ARGUMENT and no job is made) and, at start, the planner
// (coordinator/job_plan.h) orders the job's nodes by the fabric (their
// hostnames must be hosts of the description, or the job fails naming the
// node before anything starts); node_rank follows that order, each agent
// gets the plan's sub-communicators and its host's environment, and
// GetJobStatus reports the placement and the sub-communicators.
//
// A job ends exactly once:
//   SUCCEEDED  every rank reported exit code 0;
//   FAILED     a rank exited non-zero or by a signal ("rank 1 on vm was
//              killed by SIGKILL"), a node stopped heartbeating ("node vm
//              stopped heartbeating"), or an agent could not start workers;
//   CANCELLED  CancelJob.
// On FAILED and CANCELLED, StopWorkers goes to every agent of the job (but a
// lost one): SIGKILL at once for a failure, SIGTERM with options.
// stop_grace_s for a cancel. On any end the job's rendezvous namespace is
// dropped, which fails the waits of ranks still blocked in it.
//
// Elastic jobs (nodes_min < nodes_max): each attempt takes up to
// nodes_max of the free nodes, at least nodes_min, so a job that lost a
// node goes on with the nodes left (or a spare); the workers reshard the
// checkpoint to the new world size, and each attempt's ranks accumulate
// the micro-batches that keep the job's global batch (elastic.h; the
// attempt's spec gains the override train.grad_accum=N, and its placement
// event says so). A restart prefers the previous attempt's nodes, then
// spares on their leaf switches. A node that registers while a job runs
// below nodes_max is taken at the job's next restart.
//
// Root cause and cordons: the root cause of a failed attempt is its first
// failure in time: a rank's exit at the time it is reported, a lost node
// at its last heartbeat. A node that dies often makes its peers fail
// first (a broken connection), and is found lost only heartbeats later:
// the loss then replaces the peer's exit as the restart's (or the end's)
// reason, and every other failed exit of the attempt is marked collateral
// (WorkerExit.collateral). When a node is the root cause of
// options.cordon_after_failures failures within cordon_window (a failure
// judged to recur, which ends the job, does not count: it is the job's,
// not the node's), it is cordoned for cordon_for (NodeManager::Cordon):
// no job is placed on it until then, so a restart goes to a spare.
//
// Restarts (spec.max_restarts > 0): a failure (a rank's failed exit, a lost
// node) while restarts are left does not end the job. Its workers are
// stopped (StopWorkers to every reachable agent), and once every rank of
// the attempt has reported its exit (ranks on lost nodes count as gone)
// the attempt number goes up and the job is PENDING again: the scheduler
// places it on free live nodes as any pending job, and the workers, seeing
// DSTRAIN_ATTEMPT > 0, resume from the newest complete checkpoint.
// Rendezvous keys are scoped by attempt ("a<attempt>/"), and reports of an
// older attempt are ignored. GetJobStatus gives the attempt, the latest
// restart's reason and max_restarts; rank 0's history keeps the steps of
// earlier attempts up to where the new attempt's steps begin. A failure
// that will recur ends the job FAILED with restarts left, saying why: the
// same failure as the attempt before (its reason with numbers and host
// names taken out) at the same step, or an attempt that resumed at the
// same step as the one before (no newer checkpoint) and failed no further.
//
// Metrics: the latest StepMetrics per rank, rank 0's history (the newest
// `max_history` steps, steps increasing) and each rank's RankResult.
// Reports for another attempt than the job's are ignored.
//
// Durable state: every change of a job is written to the StateStore
// (coordinator/state/state_store.h) before the call that caused it
// returns: the submission (when it cannot be recorded LaunchJob fails and
// no job is made), each change of state as an event (time, from, to,
// cause) together with the job's progress and, when it is placed, its rank
// assignments, each ReportMetrics call's rank-0 steps and results as one
// write, and the first exit reported for each rank (not applied when it
// cannot be recorded). Any other write that fails is logged, and returned
// by the public call that caused it; the job goes on in memory. Writes are
// decided and queued under mu_ (so the store sees them in the order of the
// decisions) and written through a GroupCommit after mu_ is released: no
// call holds mu_ across the disk, and the writes of calls that arrive
// together share one transaction and one sync. Agents are called only
// after the writes that decided the call are on disk.
//
// Restore, at start, takes back an earlier run's jobs from the store.
// Ended ones come back as they were, so GetJobStatus answers for them with
// their state, reason, events, history, results and exits. One that was
// pending is queued again. One that was starting or running keeps its
// state, attempt, rank assignments and credential (its digest): its
// workers most likely still run, and their agents register again
// (NodeManager gives restored nodes their ids back), each telling
// AdoptNode which of the job's ranks it still runs. When every node of the
// job is back the job is RUNNING again, nothing restarted; a rank that an
// agent no longer has (and whose exit is not recorded) is a failure, as is
// a node that does not come back within NodeManager's restore grace or
// that was lost before the restart; a failed exit already recorded makes
// the job fail (or restart) at once. Workers keep using their credential
// and set their rendezvous keys again (coordinator_kv_store.h). Each job
// restored gets an event saying the coordinator restarted. A job not ended
// reads its cluster description again (its next attempt is planned with
// it; when it no longer loads, a queued job fails at once and a running
// one when it would start another attempt). Not kept across a restart: the
// topology plan's text and sub-communicators (GetJobStatus shows them
// empty), the latest metrics of ranks other than rank 0's history. New job ids
// are checked against the restored ones and the submission order continues
// after theirs, so nothing is named twice.
//
// Threads: every public method may be called from any thread. mu_ guards
// jobs_, the coordinator address and the id generator. Lock order: mu_,
// then NodeManager's, RendezvousStore's or GroupCommit's lock (all leaves:
// OpenJob and GroupCommit::Enqueue are called under mu_; Await never is). Agent
// calls run on `executor`, and DropJob (which runs rendezvous waiters'
// callbacks) only after mu_ is released, so no gRPC call or waiter callback
// ever runs under mu_. `nodes`, `kv`, `agents`, `executor`, `clock` and the
// options' store must outlive the manager, and the executor must be drained
// before the manager dies (its tasks call back into the manager).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "coordinator/agent_client.h"
#include "coordinator/clock.h"
#include "coordinator/executor.h"
#include "coordinator/job_plan.h"
#include "coordinator/node_address.h"
#include "coordinator/node_manager.h"
#include "coordinator/rendezvous_store.h"
#include "coordinator/state/group_commit.h"
#include "coordinator/state/state_store.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

struct JobManagerOptions {
  // Told to the workers (StartWorkersRequest.coordinator_address); may also
  // be set later with SetCoordinatorAddress, before jobs start.
  std::string coordinator_address;
  // SIGTERM, then SIGKILL after this long, when a cancelled job's workers
  // are stopped (they take SIGTERM as a preemption: finish the step and
  // checkpoint it if they can). A failed attempt's are killed at once.
  double stop_grace_s = 3.0;
  // Rank-0 steps kept for GetJobStatus history.
  std::size_t max_history = 100000;
  // Where a multi-node job's workers listen for collectives
  // (node_address.h): an address of each node inside this network, or
  // (unset) the address the node's agent announced.
  std::optional<Cidr> node_network;
  // Where every change is recorded (state_store.h); null: a store in memory
  // of the manager's own.
  StateStore* store = nullptr;
  // Cordons (see "Root cause and cordons" above): a node that is the root
  // cause of this many failures within cordon_window is given no job for
  // cordon_for. 0: never cordon (the embedded coordinator of `dstrain
  // launch`, whose only node is the machine itself).
  int cordon_after_failures = 2;
  Clock::Duration cordon_window = std::chrono::hours(1);
  Clock::Duration cordon_for = std::chrono::minutes(10);
};

// What a preemption expects (JobManager::PreemptJob).
struct PreemptEstimate {
  // Seconds from the signal to the workers' exit: the slowest rank's
  // latest step plus the slowest of the last few checkpoint writes; -1
  // when the job has written no checkpoint in this coordinator's run.
  double checkpoint_estimate_s = -1;
  bool fits = false;  // estimate <= warning (false when unknown)
  std::string how;    // "step 0.31 s + checkpoint 2.40 s (slowest of 3)"
};

// Whether `node` can hold one node's share of `spec`'s ranks: a cuda job
// needs a GPU per rank (procs_per_node of them).
bool NodeFits(const proto::JobSpec& spec, const proto::NodeInventory& node);

class JobManager {
 public:
  JobManager(NodeManager* nodes, RendezvousStore* kv, AgentClient* agents,
             Executor* executor, const Clock* clock,
             JobManagerOptions options = {});

  // Answers to the manager's asynchronous agent calls (FetchHangLogs) that
  // arrive later are dropped.
  ~JobManager();

  void SetCoordinatorAddress(const std::string& address);

  // Before any job is launched: an earlier run's jobs, as Load gave them
  // (see "Restore" above). FAILED_PRECONDITION once a job exists; the
  // store's error when a job's new state cannot be recorded (the rest are
  // restored all the same).
  Status Restore(std::vector<StoredJob> jobs);

  // INVALID_ARGUMENT when the numbers are unusable (procs_per_node < 1,
  // nodes_min < 1, nodes_max < nodes_min; nodes_max 0 means nodes_min).
  StatusOr<std::string> LaunchJob(const proto::JobSpec& spec);

  // Starts pending jobs that now fit on the free live nodes. Called after a
  // node registers and after liveness checks; LaunchJob and job ends call it
  // themselves.
  void Schedule();

  // A worker ended. NOT_FOUND for an unknown job; INVALID_ARGUMENT for a
  // rank outside the job or on another node than `node_id` (empty: any).
  Status ReportWorkerExit(const std::string& node_id, const std::string& job_id,
                          int attempt, const proto::WorkerExit& exit);

  // Fails the running jobs placed on any of these nodes.
  void OnNodesLost(const std::vector<std::string>& node_ids);

  // Hangs. Each heartbeat brings its node's ranks' progress records
  // (proto RankProgress; another attempt's, or a job not running, are
  // ignored). CheckHangs, called with the liveness checks, finds each
  // running job none of whose ranks changed its step, phase or
  // collectives for spec.hang_timeout_s (ten times that while a rank is in
  // its "checkpoint" phase; counted from the attempt's RUNNING at the
  // earliest; ranks that exited do not count; a job with no record at all
  // is not judged), records the wavefront (hang_report.h) as
  // JobStatus.hang, and fails or restarts the job with the report's
  // summary ("hang: no progress for 31 s: ..."; an event says it at once
  // when the job will restart). Then it asks the
  // culprits' agents for their last output lines, which the report gains
  // when they answer.
  void ReportProgress(const std::string& node_id,
                      const std::vector<proto::RankProgress>& progress);
  void CheckHangs();

  // Stragglers. Each rank's own work per step (step time less its waits
  // for collectives and data) is summed from its step metrics; once rank 0
  // is spec.straggler_window_steps past the window's start, CheckStragglers
  // (called with the liveness checks) compares the ranks' means with the
  // median (straggler_check.h, leaves from the cluster description). Ranks
  // slow in two windows in a row are reported as an event ("straggler:
  // rank 1 on node-2 (leaf0): ...", or the leaf when slow ranks share one
  // across hosts), once per change of who they are, and in
  // JobStatus.stragglers.
  void CheckStragglers();

  // A node restored from an earlier run registered again (NodeManager gave
  // it its id back) and its agent runs `running`. Each restored job placed
  // there takes its workers back; one whose ranks there neither run nor
  // have exited fails (or restarts). Returns the ids in `running` that no
  // active attempt here owns, whose workers the agent should stop.
  std::vector<std::string> AdoptNode(
      const std::string& node_id,
      const std::vector<proto::RunningJob>& running);

  // NOT_FOUND for an unknown job; a job already ended is left as it is.
  Status CancelJob(const std::string& job_id, const std::string& reason);

  // Preemption through the coordinator (`dstrain preempt`): every worker
  // gets SIGTERM, finishes its step, writes a checkpoint of it and exits
  // 75; SIGKILL follows after `warning_s`. The job ends CANCELLED
  // ("preempted ..."), never restarted, also when a rank is killed before
  // its checkpoint is written (the reason says so: --resume then goes on
  // from the newest complete one). A pending job is cancelled. NOT_FOUND
  // for an unknown job, FAILED_PRECONDITION for one already ended,
  // INVALID_ARGUMENT for a warning below 1 s.
  StatusOr<PreemptEstimate> PreemptJob(const std::string& job_id,
                                       double warning_s,
                                       const std::string& reason);

  Status ReportMetrics(const proto::ReportMetricsRequest& request);

  // Job credentials (coordinator/access.h): each attempt's workers get a
  // fresh one, "<job id>.<random>", valid while that attempt is STARTING
  // or RUNNING. `known` when `token` was ever issued; `job_id` its job.
  struct CredentialCheck {
    bool known = false;
    bool active = false;
    std::string job_id;
  };
  CredentialCheck CheckJobCredential(std::string_view token) const;

  // Every job, in submission order, one line each (`dstrain jobs`).
  std::vector<proto::JobSummary> ListJobs() const;
  // The starting or running job on each node that has one: node id -> job.
  std::map<std::string, std::string> JobsByNode() const;

  // history holds rank 0's steps > since_step.
  StatusOr<proto::JobStatus> GetJobStatus(const std::string& job_id,
                                          int since_step) const;

  // The job's nodes on the fabric its plan used (job_fabric.h), for the
  // current attempt's placement; no nodes while it waits for its first.
  // NOT_FOUND for an unknown job. The drawing is made after mu_ is
  // released (the description is immutable and shared).
  StatusOr<proto::JobFabric> GetJobFabric(const std::string& job_id) const;

 private:
  struct Placement {
    std::string node_id;
    std::string host;
    std::string agent_address;
    bool lost = false;
    // Restored from an earlier run: the node's agent has not registered
    // again yet (see "Restore" above).
    bool awaiting = false;
  };
  struct Job {
    std::string id;
    std::int64_t order = 0;
    proto::JobSpec spec;
    proto::JobState state = proto::JOB_PENDING;
    std::string reason;
    std::string pending_reason;     // while PENDING: why it waits
    std::string credential_sha256;  // the current attempt's (see above)
    int attempt = 0;
    int world_size = 0;
    std::vector<Placement> nodes;               // by node_rank
    std::shared_ptr<const JobCluster> cluster;  // null: no topology plan
    // Restored with a description that no longer loads: why (its next
    // attempt fails with it).
    std::string cluster_error;
    std::string placement;  // the plan's, when planned
    std::vector<proto::SubCommunicator> communicators;
    std::vector<GradRoute> grad_routes;
    std::vector<proto::RankAssignment> ranks;  // by rank
    int starts_pending = 0;                    // agents yet to answer
    std::map<int, proto::StepMetrics> latest;  // by rank
    std::deque<proto::StepMetrics> history;    // rank 0, steps increasing
    // Every rank-0 step taken into the history in this coordinator's run,
    // for the step-time summary /metrics exports (history is capped).
    double step_seconds_sum = 0;
    std::int64_t steps_observed = 0;
    // The current attempt's: when its workers all started (Unix µs, 0 when
    // not in this run) and the seconds from then to its first step.
    std::int64_t running_us = 0;
    double startup_s = -1;
    // The current attempt's progress records (by rank) and when each last
    // changed; the newest hang found.
    struct Progress {
      proto::RankProgress last;
      Clock::TimePoint changed_at;
    };
    std::map<int, Progress> progress;
    Clock::TimePoint progress_since;  // the attempt's RUNNING
    std::optional<proto::HangReport> hang;
    // Stragglers: each rank's work in the current window (sum, steps), the
    // window's first step, who was slow in the window before and who was
    // reported last.
    std::map<int, std::pair<double, int>> work;
    int window_start = 0;
    std::set<int> slow_before;
    std::set<int> stragglers_reported;
    std::string stragglers;
    std::map<int, proto::RankResult> results;  // by rank
    std::map<int, proto::WorkerExit> exits;    // by rank, first report wins
    // Set from a failure until the failed attempt's workers have all
    // exited; then the next attempt is scheduled.
    bool restarting = false;
    std::string restart_reason;  // the latest restart's
    // The current attempt's root cause (see "Root cause and cordons"):
    // the first failure in time, revised while the attempt winds down or
    // just after the job failed.
    struct Failure {
      std::string reason;
      Clock::TimePoint at;
      std::string node_id;  // "" when no node is to blame (a hang)
      int rank = -1;        // the rank whose exit it is, or -1
    };
    std::optional<Failure> root_cause;
    Clock::TimePoint ended_at;  // this run's clock, when it ended
    // The previous attempt's nodes and their leaf switches: a restart
    // prefers them (elastic.h).
    std::set<std::string> previous_nodes;
    std::set<std::string> previous_leaves;
    // A preemption is under way (PreemptJob): exits end the job CANCELLED.
    bool preempting = false;
    double preempt_warning_s = 0;
    // Rank 0's latest checkpoint writes (seconds, newest last, a few).
    std::deque<double> checkpoint_seconds;
    // Not restarting what cannot succeed: the current attempt's first
    // rank-0 step (-1 before one), and the previous failure's signature
    // (numbers and hosts taken out, and its step), first step and step.
    int first_step = -1;
    std::string previous_failure;
    int previous_first_step = -1;
    int previous_fail_step = -1;
    std::vector<proto::JobEvent> events;  // oldest first
    // Restored from the store: launched_at means nothing, and its elapsed
    // time comes from the Unix times.
    bool restored = false;
    Clock::TimePoint launched_at;
    std::int64_t submitted_us = 0;  // Unix times, as the store keeps them
    std::int64_t started_us = 0;
    std::int64_t ended_us = 0;
  };
  // Work decided under mu_ and done after it is released: first the
  // store writes are awaited (GroupCommit), then the rest.
  struct Effects {
    std::vector<GroupCommit::Ticket> writes;
    std::vector<std::pair<std::string, Status>> dropped_namespaces;
    std::vector<std::function<void()>> agent_calls;
    // Node records to write (cordons), after `writes`.
    std::vector<StoredNode> node_writes;
    Status store_error;  // the first write to the store that failed
  };

  static bool IsActive(proto::JobState s) {
    return s == proto::JOB_STARTING || s == proto::JOB_RUNNING;
  }
  static bool IsEnded(proto::JobState s) {
    return s == proto::JOB_SUCCEEDED || s == proto::JOB_FAILED ||
           s == proto::JOB_CANCELLED;
  }

  // The *Locked helpers expect mu_ held.
  Job* FindLocked(const std::string& job_id);
  // Moves `job` to `to` (also when it is there already), appends the event
  // and records both; `placed`: its rank assignments too. Sets the start
  // time on STARTING and the end time on an end.
  void TransitionLocked(Job* job, proto::JobState to, const std::string& cause,
                        bool placed, Effects* effects);
  // Logs a failed write and keeps the first in `effects`.
  static void NoteStore(const Status& written, Effects* effects);
  // Re-entrant: a job that fails while being started (no valid layout, a
  // topology plan that cannot be made) ends, which schedules again; that
  // nested call only asks the running one for another pass, so no job is
  // handed nodes from a stale free list.
  void ScheduleLocked(Effects* effects);
  // Why `job` cannot start with `free_nodes` free (busy_by: node id ->
  // the job running there), for JobStatus.pending_reason.
  std::string WhyWaiting(const Job& job,
                         const std::map<std::string, std::string>& busy_by,
                         std::size_t free_nodes) const;
  void SchedulePassLocked(Effects* effects);
  void StartLocked(Job* job, const std::vector<NodeInfo>& nodes,
                   Effects* effects);
  // Restore of a starting or running job (see "Restore" above).
  void ReadoptLocked(Job* job, const std::string& credential_sha256,
                     Effects* effects);
  void EndLocked(Job* job, proto::JobState state, const std::string& reason,
                 bool stop_workers, Effects* effects);
  void Apply(Effects* effects);
  // A failure: restart when restarts are left, else end FAILED. The
  // first of an attempt is its root cause; a later one that happened
  // earlier (a node's last heartbeat before the first exit) replaces it.
  void FailOrRestartLocked(Job* job, const Job::Failure& failure,
                           Effects* effects);
  // Replaces the root cause of a job restarting or just failed by an
  // earlier failure; false when `failure` is not earlier.
  bool ReviseRootCauseLocked(Job* job, const Job::Failure& failure,
                             Effects* effects);
  // The exits of the attempt other than the root cause's, marked
  // collateral, for the event: "ranks 0, 2".
  std::string MarkCollateralLocked(Job* job);
  // Counts the attempt's root cause against its node; cordons the node
  // when its failures repeat (options.cordon_after_failures).
  void NoteNodeFailureLocked(Job* job, Effects* effects);
  // The leaf switch of `host` in the job's cluster description, or "".
  static std::string LeafOf(const Job& job, const std::string& host);
  // Schedules the next attempt once every rank of a restarting job is gone.
  void MaybeRestartLocked(Job* job, Effects* effects);
  // `grace_s`: SIGTERM, then SIGKILL after it; 0: SIGKILL at once (a
  // failed attempt's ranks, whose collectives cannot complete, and which
  // would take SIGTERM as a preemption and try to checkpoint first).
  void StopWorkersLocked(const Job& job, const std::string& reason,
                         double grace_s, Effects* effects);
  // ReportWorkerExit's checks; *job is null for a stale attempt (OK).
  Status CheckExitLocked(const std::string& node_id, const std::string& job_id,
                         int attempt, const proto::WorkerExit& exit, Job** job);
  // ReportMetrics under mu_: takes the request into memory and queues its
  // write (*written, when there is one).
  Status TakeMetrics(const proto::ReportMetricsRequest& request,
                     std::optional<GroupCommit::Ticket>* written);
  // Adds the culprits' last output lines to the job's hang report.
  void FetchHangLogs(const std::string& job_id, int attempt,
                     std::int64_t detected_us,
                     const std::map<std::string, std::vector<int>>& by_agent);
  void OnStartResult(const std::string& job_id, int attempt,
                     const std::string& node_id, const Status& status);

  NodeManager* const nodes_;
  RendezvousStore* const kv_;
  AgentClient* const agents_;
  Executor* const executor_;
  const Clock* const clock_;
  const JobManagerOptions options_;
  std::unique_ptr<StateStore> own_store_;  // when the options gave none
  StateStore* const store_;
  GroupCommit commit_;  // over store_

  mutable std::mutex mu_;
  std::string coordinator_address_;  // guarded by mu_
  std::map<std::string, Job> jobs_;  // guarded by mu_
  std::int64_t next_order_ = 1;      // guarded by mu_
  // Ids of jobs being recorded by LaunchJob, not yet in jobs_.
  std::set<std::string> reserved_ids_;  // guarded by mu_
  std::mt19937_64 rng_;                 // guarded by mu_
  bool scheduling_ = false;             // guarded by mu_
  // Whether the manager still exists, for callbacks of asynchronous agent
  // calls: they hold `mu` while they use the manager; the destructor
  // clears `alive` under it.
  struct Lifetime {
    std::mutex mu;
    bool alive = true;
  };
  const std::shared_ptr<Lifetime> lifetime_ = std::make_shared<Lifetime>();
  bool reschedule_ = false;  // guarded by mu_
  // Root-cause failures per node (see "Root cause and cordons"), within
  // options.cordon_window.
  std::map<std::string, std::deque<Clock::TimePoint>>
      node_failures_;  // guarded by mu_
};

}  // namespace dstrain::coordinator
