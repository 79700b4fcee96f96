#include "coordinator/node_manager.h"

namespace dstrain::coordinator {

NodeManager::NodeManager(const Clock* clock, Clock::Duration heartbeat_interval,
                         int missed_before_lost)
    : clock_(clock),
      heartbeat_interval_(heartbeat_interval),
      missed_before_lost_(missed_before_lost < 1 ? 1 : missed_before_lost) {}

std::string NodeManager::Register(const proto::NodeInventory& inventory,
                                  const std::string& agent_address) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeInfo node;
  node.order = next_order_++;
  node.node_id = "n-" + std::to_string(node.order);
  node.inventory = inventory;
  node.agent_address = agent_address;
  node.registered_at = clock_->Now();
  node.last_heartbeat = node.registered_at;
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
    }
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
