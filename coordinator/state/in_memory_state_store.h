#pragma once
// A StateStore (state_store.h) in the process's memory: the coordinator's
// default, and the one `dstrain launch` embeds. It keeps the contract in
// full, so JobManager and NodeManager behave the same over either store;
// what it holds is gone when the process ends.
//
// Thread-safe: mu_ guards everything and is a leaf.

#include <map>
#include <mutex>
#include <string>

#include "coordinator/state/state_store.h"

namespace dstrain::coordinator {

class InMemoryStateStore : public StateStore {
 public:
  std::string Describe() const override { return "in memory"; }
  StatusOr<StoredState> Load() const override;
  Status CreateJob(const JobSubmission& job) override;
  Status UpdateJob(const JobChange& change) override;
  Status RecordMetrics(const MetricsBatch& batch) override;
  Status RecordExit(const std::string& job_id, int attempt,
                    const proto::WorkerExit& exit) override;
  Status PutNode(const StoredNode& node) override;
  Status UpdateNode(const StoredNode& node) override;
  Status MarkNodesLost(const std::vector<std::string>& node_ids) override;
  Status RecordHeartbeats(
      const std::vector<std::pair<std::string, std::int64_t>>& times) override;

 private:
  struct Job {
    StoredJob record;  // results and exits unused: kept below by attempt
    std::map<int, proto::StepMetrics> history;  // by step
    std::map<std::pair<int, int>, proto::RankResult>
        results;                                             // (attempt, rank)
    std::map<std::pair<int, int>, proto::WorkerExit> exits;  // (attempt, rank)
  };

  mutable std::mutex mu_;
  std::map<std::string, Job> jobs_;  // guarded by mu_
  std::map<std::int64_t, std::string>
      job_order_;                            // guarded by mu_; order -> id
  std::map<std::string, StoredNode> nodes_;  // guarded by mu_
  std::map<std::int64_t, std::string>
      node_order_;  // guarded by mu_; ordinal -> id
};

}  // namespace dstrain::coordinator
