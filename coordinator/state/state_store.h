#pragma once
// The coordinator's record of what it was told and what it decided: jobs
// (spec, state, attempt, rank assignments), every change of a job's state
// with its time and cause, rank 0's step history, the ranks' results and
// exits, and the nodes that registered. JobManager and NodeManager write
// each change through a StateStore as it happens and read it all back
// once, when the coordinator starts. Knows nothing of gRPC or of the
// managers.
//
// Two implementations:
//   InMemoryStateStore (in_memory_state_store.h): the default, and what the
//     coordinator embedded in `dstrain launch` uses; gone with the process.
//   SqliteStateStore (sqlite_state_store.h): `dstrain coordinator --state
//     DIR`; survives the coordinator.
//
// The contract both keep (state_store_test.cc runs one suite against each):
//   - A write is all or nothing. When it returns OK it is in the store: for
//     SqliteStateStore, committed to disk in one transaction, so a caller
//     that answers an RPC only after the write returned never acknowledges
//     something a crash could take back. A write that fails changes nothing.
//   - CreateJob of an id already there, or PutNode of a node id or ordinal
//     already there, is ALREADY_EXISTS; a write naming a job or node never
//     created is NOT_FOUND. Nothing is written then.
//   - The store checks no transition rules: the managers own them. It keeps
//     what it is given, in call order.
//   - Load returns everything written: jobs by `order`, each job's events in
//     the order they were recorded, its history by step, its results and
//     exits of its current attempt (those of earlier attempts stay in the
//     store but are not returned) by rank; nodes by ordinal.
//   - Thread-safe: every call may come from any thread; calls are
//     serialised against each other by a lock that is a leaf (the store
//     calls nothing back), so callers may hold their own locks.
//
// Not kept: the latest metrics of every rank (they change every step; rank
// 0's are in the history), every heartbeat (only the latest time of each
// node, written in batches, and its lost flag), the
// rendezvous keys (the ranks of a running job set them again when they see
// the coordinator restarted: coordinator/client/coordinator_kv_store.h). No
// secret ever reaches the store: the cluster token is not part of any record
// here, and of a job credential only its SHA-256.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

// The part of a job that changes over its life; UpdateJob writes it whole.
struct JobProgress {
  proto::JobState state = proto::JOB_PENDING;
  std::string reason;  // why it failed or was cancelled
  int attempt = 0;
  int world_size = 0;
  std::string restart_reason;  // the latest restart's
  std::int64_t started_us =
      0;  // Unix µs the latest attempt was placed; 0: never
  std::int64_t ended_us = 0;  // Unix µs it ended; 0: not ended
  // SHA-256 (hex) of the current attempt's job credential, "" when none:
  // a restarted coordinator checks the credential its running workers hold
  // without the credential itself ever being stored.
  std::string credential_sha256;

  bool operator==(const JobProgress&) const = default;
};

// A job as LaunchJob accepted it.
struct JobSubmission {
  std::string id;
  std::int64_t order = 0;  // submission order, from 1, unique
  proto::JobSpec spec;
  std::int64_t submitted_us = 0;  // Unix µs
  proto::JobEvent event;          // the submission's (-> PENDING)
};

// One change of a job's state: the new progress and the event saying why.
struct JobChange {
  std::string job_id;
  JobProgress progress;
  proto::JobEvent event;
  // Set when an attempt was placed: the job's rank assignments become these
  // (by rank). Unset: they stay as they are.
  std::optional<std::vector<proto::RankAssignment>> ranks;
};

// Rank 0's history of one job, changed in this order:
struct StepsChange {
  std::string job_id;
  // 1. steps >= this go (a restarted attempt repeats the steps after its
  //    checkpoint, and its rows replace the failed attempt's);
  std::optional<int> drop_from_step;
  // 2. these are added, each replacing a row of the same step;
  std::vector<proto::StepMetrics> steps;
  // 3. steps < this go (the history keeps only the newest steps).
  std::optional<int> drop_before_step;
};

// What one ReportMetrics call changed: written in one transaction.
struct MetricsBatch {
  std::vector<StepsChange> steps;  // at most one per job
  // Results of one attempt of one job, each replacing the rank's earlier
  // result of that attempt. Ignored when empty.
  std::string results_job_id;
  int results_attempt = 0;
  std::vector<proto::RankResult> results;
};

struct StoredNode {
  std::string id;
  std::int64_t ordinal = 0;  // registration order, from 1, unique
  proto::NodeInventory inventory;
  std::string agent_address;
  std::int64_t registered_us = 0;  // Unix µs
  bool lost = false;
  std::int64_t last_heartbeat_us = 0;  // Unix µs, as last recorded; 0: none
  // Drained by an operator (takes no new job), and why; "" when not.
  bool drained = false;
  std::string drain_reason;
  // Cordoned until (Unix µs; 0: not), and why.
  std::int64_t cordoned_until_us = 0;
  std::string cordon_reason;
};

// A job as Load gives it back.
struct StoredJob {
  std::string id;
  std::int64_t order = 0;
  proto::JobSpec spec;
  std::int64_t submitted_us = 0;
  JobProgress progress;
  std::vector<proto::RankAssignment> ranks;  // the latest placement's
  std::vector<proto::JobEvent> events;       // oldest first
  std::vector<proto::StepMetrics> history;   // rank 0, steps increasing
  std::vector<proto::RankResult> results;    // current attempt, by rank
  std::vector<proto::WorkerExit> exits;      // current attempt, by rank
};

struct StoredState {
  std::vector<StoredJob> jobs;    // by order
  std::vector<StoredNode> nodes;  // by ordinal
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // "in memory", or the state directory; for messages.
  virtual std::string Describe() const = 0;

  virtual StatusOr<StoredState> Load() const = 0;

  // A new job in PENDING, attempt 0, with its submission event.
  virtual Status CreateJob(const JobSubmission& job) = 0;
  // Replaces the job's progress, appends the event and, when given, its
  // rank assignments.
  virtual Status UpdateJob(const JobChange& change) = 0;
  virtual Status RecordMetrics(const MetricsBatch& batch) = 0;
  // A rank's exit in an attempt; the first one recorded for that rank and
  // attempt stays (a later one is ignored, OK).
  virtual Status RecordExit(const std::string& job_id, int attempt,
                            const proto::WorkerExit& exit) = 0;

  virtual Status PutNode(const StoredNode& node) = 0;
  // A node registering again under its id, or drained or undrained:
  // replaces its inventory, agent address, lost flag and drain (id,
  // ordinal and registration time stay).
  // NOT_FOUND for an id never put.
  virtual Status UpdateNode(const StoredNode& node) = 0;
  // Sets the lost flag of every node named (all of them or none: an
  // unknown id is NOT_FOUND).
  virtual Status MarkNodesLost(const std::vector<std::string>& node_ids) = 0;
  // The latest heartbeat of each node named, as Unix µs (NodeManager
  // writes them in one call about once a heartbeat interval, not one per
  // heartbeat). Unknown ids are skipped.
  virtual Status RecordHeartbeats(
      const std::vector<std::pair<std::string, std::int64_t>>& times) = 0;

  // Group commit: runs `body`, whose writes (the calls above, made from
  // this thread) are committed together when it returns: one transaction
  // and one sync to disk for all of them, each still all or nothing on
  // its own (a write that fails inside changes nothing and returns its
  // error; the others stand). Returns the commit's error, which undoes
  // every write of the batch whatever it returned. Other threads' writes
  // wait for the batch. The default runs `body` as is.
  virtual Status Batch(const std::function<void()>& body) {
    body();
    return Status::Ok();
  }
};

}  // namespace dstrain::coordinator
