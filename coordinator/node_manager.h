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
// Thread-safe: every method takes mu_, which guards the whole table and is a
// leaf lock (nothing is called while holding it).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "coordinator/clock.h"
#include "dstrain.pb.h"

namespace dstrain::coordinator {

struct NodeInfo {
  std::string node_id;
  proto::NodeInventory inventory;
  std::string agent_address;  // host:port of the node's Agent service
  std::int64_t order = 0;     // registration order, from 1
  Clock::TimePoint registered_at;
  Clock::TimePoint last_heartbeat;
  bool alive = true;
  std::vector<int> running_ranks;  // as last reported by the agent

  // The inventory's hostname, or the node id when the agent sent none.
  const std::string& host() const {
    return inventory.hostname().empty() ? node_id : inventory.hostname();
  }
};

class NodeManager {
 public:
  // `clock` must outlive the manager.
  NodeManager(const Clock* clock, Clock::Duration heartbeat_interval,
              int missed_before_lost);

  Clock::Duration heartbeat_interval() const { return heartbeat_interval_; }

  // Adds a node; returns its id.
  std::string Register(const proto::NodeInventory& inventory,
                       const std::string& agent_address);

  // Records a heartbeat. False when the node is unknown or already lost.
  bool Heartbeat(const std::string& node_id,
                 const std::vector<int>& running_ranks);

  // Marks nodes silent for too long as lost; returns the ids newly lost.
  std::vector<std::string> CheckLiveness();

  std::optional<NodeInfo> Get(const std::string& node_id) const;
  // Every node ever registered, in registration order.
  std::vector<NodeInfo> List() const;
  // The nodes alive now, in registration order.
  std::vector<NodeInfo> LiveNodes() const;

 private:
  const Clock* const clock_;
  const Clock::Duration heartbeat_interval_;
  const int missed_before_lost_;

  mutable std::mutex mu_;
  std::vector<NodeInfo> nodes_;  // guarded by mu_; in registration order
  std::int64_t next_order_ = 1;  // guarded by mu_
};

}  // namespace dstrain::coordinator
