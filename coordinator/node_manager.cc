#include "coordinator/node_manager.h"

#include <algorithm>

#include "common/log.h"
#include "coordinator/state/in_memory_state_store.h"

namespace dstrain::coordinator {

NodeManager::NodeManager(const Clock* clock, Clock::Duration heartbeat_interval,
                         int missed_before_lost, StateStore* store,
                         Clock::Duration restore_grace)
    : clock_(clock),
      heartbeat_interval_(heartbeat_interval),
      missed_before_lost_(missed_before_lost < 1 ? 1 : missed_before_lost),
      restore_grace_(restore_grace),
      own_store_(store == nullptr ? std::make_unique<InMemoryStateStore>()
                                  : nullptr),
      store_(store == nullptr ? own_store_.get() : store) {}

Status NodeManager::Restore(const std::vector<StoredNode>& stored) {
  std::lock_guard<std::mutex> lock(mu_);
  if (registered_) {
    return FailedPrecondition("NodeManager::Restore after a registration");
  }
  for (const StoredNode& s : stored) {
    NodeInfo node;
    node.node_id = s.id;
    node.order = s.ordinal;
    node.inventory = s.inventory;
    node.agent_address = s.agent_address;
    node.registered_at = clock_->Now();
    node.registered_unix_us = s.registered_us;
    node.last_heartbeat = node.registered_at;
    node.alive = false;
    // registered_at is the Restore's time: restore_grace counts from it.
    node.awaiting = !s.lost;
    next_order_ = std::max(next_order_, s.ordinal + 1);
    nodes_.push_back(std::move(node));
  }
  return Status::Ok();
}

StatusOr<std::string> NodeManager::Register(
    const proto::NodeInventory& inventory, const std::string& agent_address,
    const std::string& previous_node_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (NodeInfo& known : nodes_) {
    // Only a node restored from an earlier run comes back under its id: a
    // node this run declared lost had its jobs failed over already, and the
    // hostname check keeps an agent from claiming another machine's node.
    if (previous_node_id.empty() || known.node_id != previous_node_id ||
        !known.awaiting || known.inventory.hostname() != inventory.hostname()) {
      continue;
    }
    StoredNode record;
    record.id = known.node_id;
    record.ordinal = known.order;
    record.inventory = inventory;
    record.agent_address = agent_address;
    record.registered_us = known.registered_unix_us;
    DSTRAIN_RETURN_IF_ERROR(store_->UpdateNode(record));
    known.inventory = inventory;
    known.agent_address = agent_address;
    known.awaiting = false;
    known.alive = true;
    known.last_heartbeat = clock_->Now();
    registered_ = true;
    return known.node_id;
  }
  NodeInfo node;
  node.order = next_order_;
  node.node_id = "n-" + std::to_string(node.order);
  node.inventory = inventory;
  node.agent_address = agent_address;
  node.registered_at = clock_->Now();
  node.registered_unix_us = clock_->UnixMicros();
  node.last_heartbeat = node.registered_at;
  // Recorded before the agent hears its id: a restarted coordinator never
  // hands that id to another node.
  StoredNode record;
  record.id = node.node_id;
  record.ordinal = node.order;
  record.inventory = inventory;
  record.agent_address = agent_address;
  record.registered_us = node.registered_unix_us;
  DSTRAIN_RETURN_IF_ERROR(store_->PutNode(record));
  ++next_order_;
  registered_ = true;
  nodes_.push_back(std::move(node));
  return nodes_.back().node_id;
}

bool NodeManager::Heartbeat(const std::string& node_id,
                            const std::vector<int>& running_ranks) {
  std::lock_guard<std::mutex> lock(mu_);
  for (NodeInfo& node : nodes_) {
    if (node.node_id != node_id) continue;
    if (!node.alive) return false;
    node.last_heartbeat = clock_->Now();
    node.running_ranks = running_ranks;
    return true;
  }
  return false;
}

std::vector<std::string> NodeManager::CheckLiveness() {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::TimePoint now = clock_->Now();
  const Clock::Duration limit = heartbeat_interval_ * missed_before_lost_;
  std::vector<std::string> lost;
  for (NodeInfo& node : nodes_) {
    if (node.alive && now - node.last_heartbeat > limit) {
      node.alive = false;
      lost.push_back(node.node_id);
    } else if (node.awaiting && now - node.registered_at > restore_grace_) {
      node.awaiting = false;
      lost.push_back(node.node_id);
    }
  }
  if (!lost.empty()) {
    // Nobody to answer with a failure: the node is lost here either way
    // (a restarted coordinator would find it awaiting and lose it again).
    Status s = store_->MarkNodesLost(lost);
    if (!s.ok()) log::Error("coordinator: " + s.message());
  }
  return lost;
}

std::optional<NodeInfo> NodeManager::Get(const std::string& node_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const NodeInfo& node : nodes_) {
    if (node.node_id == node_id) return node;
  }
  return std::nullopt;
}

std::vector<NodeInfo> NodeManager::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_;
}

std::vector<NodeInfo> NodeManager::LiveNodes() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<NodeInfo> live;
  for (const NodeInfo& node : nodes_) {
    if (node.alive) live.push_back(node);
  }
  return live;
}

}  // namespace dstrain::coordinator
