#pragma once
// The coordinator's table of nodes (agents): registration, heartbeats and
// liveness. Knows nothing of gRPC.
//
// Register gives each agent a fresh node id ("n-<ordinal>") and remembers the
// order nodes came in: jobs place ranks in that order. A node is lost when
// more than `missed_before_lost` heartbeat intervals pass without a
// heartbeat; CheckLiveness (called periodically by the server, or by a test
// after advancing a FakeClock) marks such nodes lost and returns them once.
// A lost node stays listed (for `dstrain nodes`) but its heartbeats answer
// "unknown", telling the agent to register again under a new id.
//
// Durable state: every registration and every node found lost is written
// to the StateStore (coordinator/state/state_store.h) before the call that
// caused it returns; heartbeats are not. Restore takes back the nodes of an
// earlier run of the coordinator (--state DIR): those that were live come
// back *awaiting* (not alive, so nothing is placed on them, but not lost),
// since which of their agents are still there is unknown. Such an agent
// finds its heartbeat answered "unknown" and registers again naming its
// previous id: it gets that id back (its running workers are re-adopted by
// the JobManager). An awaiting node that has not come back within
// `restore_grace` is lost, as a silent node is. New ids continue after the
// restored ones, so no id names two nodes.
//
// Heartbeats are kept in memory and written to the store by CheckLiveness,
// the latest time of each node that beat, in one write per heartbeat
// interval.
//
// Thread-safe: every method takes mu_, which guards the whole table; no
// call is made while holding it: store writes happen after it is released
// (a registration is decided under mu_, recorded, then applied), so a
// heartbeat never waits for the disk.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "coordinator/clock.h"
#include "coordinator/state/state_store.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

struct NodeInfo {
  std::string node_id;
  proto::NodeInventory inventory;
  std::string agent_address;  // host:port of the node's Agent service
  std::int64_t order = 0;     // registration order, from 1
  Clock::TimePoint registered_at;
  std::int64_t registered_unix_us = 0;
  Clock::TimePoint last_heartbeat;
  // Unix µs of the latest heartbeat (for an earlier run's node, the one
  // its record kept); 0: none yet.
  std::int64_t last_heartbeat_unix_us = 0;
  bool alive = true;
  // Restored from an earlier run and not registered again yet.
  bool awaiting = false;
  bool reviving = false;  // its registration is being recorded
  // Drained by an operator: alive, but given no new job.
  bool drained = false;
  std::string drain_reason;
  // Cordoned by the coordinator (its failures repeat): no new job until
  // cordoned_until (this run's clock; the Unix µs for records).
  Clock::TimePoint cordoned_until{};
  std::int64_t cordoned_until_unix_us = 0;
  std::string cordon_reason;
  bool Cordoned(Clock::TimePoint now) const {
    return cordoned_until_unix_us != 0 && now < cordoned_until;
  }
  std::vector<int> running_ranks;  // as last reported by the agent

  // The inventory's hostname, or the node id when the agent sent none.
  const std::string& host() const {
    return inventory.hostname().empty() ? node_id : inventory.hostname();
  }
};

class NodeManager {
 public:
  // `clock` and `store` must outlive the manager; a null store: one in
  // memory of its own.
  NodeManager(const Clock* clock, Clock::Duration heartbeat_interval,
              int missed_before_lost, StateStore* store = nullptr,
              Clock::Duration restore_grace = std::chrono::seconds(30));

  Clock::Duration heartbeat_interval() const { return heartbeat_interval_; }
  Clock::TimePoint Now() const { return clock_->Now(); }

  // Before any other call: the nodes an earlier run recorded, the live
  // ones awaiting, the lost ones lost. FAILED_PRECONDITION after a
  // registration.
  Status Restore(const std::vector<StoredNode>& nodes);

  // Adds a node and returns its id; or, when `previous_node_id` names an
  // awaiting node of the same hostname, makes that node alive again with
  // this inventory and address and returns its id. The store's error when
  // it cannot record the node, which is then not added (or stays awaiting).
  StatusOr<std::string> Register(const proto::NodeInventory& inventory,
                                 const std::string& agent_address,
                                 const std::string& previous_node_id = "");

  // Records a heartbeat. False when the node is unknown or already lost.
  bool Heartbeat(const std::string& node_id,
                 const std::vector<int>& running_ranks);

  // Marks nodes silent for too long, and awaiting nodes not back within
  // restore_grace of the Restore, as lost; returns the ids newly lost.
  std::vector<std::string> CheckLiveness();

  std::optional<NodeInfo> Get(const std::string& node_id) const;
  // Every node ever registered, in registration order.
  std::vector<NodeInfo> List() const;
  // The nodes alive now, in registration order.
  std::vector<NodeInfo> LiveNodes() const;
  // Those of them that may take new work (neither drained nor cordoned).
  std::vector<NodeInfo> SchedulableNodes() const;

  // Drains (or undrains) the node named by id or hostname: no new job is
  // placed on it, the one it runs goes on; recorded, so a restarted
  // coordinator keeps it. NOT_FOUND for an unknown node, INVALID_ARGUMENT
  // when a hostname names several live nodes. Returns the node's id.
  // Undraining also lifts a cordon.
  StatusOr<std::string> SetDrain(const std::string& node, bool drained,
                                 const std::string& reason);

  // Cordons the machine `hostname` for `duration` (from now): its nodes,
  // and a node it registers again as (a lost node comes back under a new
  // id), take no new job until then. In memory at once; returns the
  // records to write (RecordNode), so that a caller holding its own lock
  // writes after releasing it. Undraining a node lifts its cordon.
  std::vector<StoredNode> Cordon(const std::string& hostname,
                                 Clock::Duration duration,
                                 const std::string& reason);
  Status RecordNode(const StoredNode& record) {
    return store_->UpdateNode(record);
  }

 private:
  const Clock* const clock_;
  const Clock::Duration heartbeat_interval_;
  const int missed_before_lost_;
  const Clock::Duration restore_grace_;

  std::unique_ptr<StateStore> own_store_;  // when none was given
  StateStore* const store_;

  NodeInfo* FindLocked(const std::string& node_id);
  // The node's record as the store keeps it.
  static StoredNode RecordOf(const NodeInfo& node);

  mutable std::mutex mu_;
  std::vector<NodeInfo> nodes_;  // guarded by mu_; in registration order
  std::map<std::string, std::size_t> index_;  // guarded by mu_; id -> nodes_
  // Heartbeats since the last write to the store: id -> Unix µs.
  std::map<std::string, std::int64_t> dirty_heartbeats_;  // guarded by mu_
  Clock::TimePoint last_heartbeat_flush_{};               // guarded by mu_
  std::int64_t next_order_ = 1;                           // guarded by mu_
  // Cordons by hostname, for nodes that register again.
  struct HostCordon {
    Clock::TimePoint until;
    std::int64_t until_unix_us = 0;
    std::string reason;
  };
  std::map<std::string, HostCordon> cordons_;  // guarded by mu_
  bool registered_ = false;  // guarded by mu_; Register has added a node
};

}  // namespace dstrain::coordinator
