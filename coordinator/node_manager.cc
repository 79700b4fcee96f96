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
    node.last_heartbeat_unix_us = s.last_heartbeat_us;
    node.alive = false;
    // registered_at is the Restore's time: restore_grace counts from it.
    node.awaiting = !s.lost;
    node.drained = s.drained;
    node.drain_reason = s.drain_reason;
    if (s.cordoned_until_us > clock_->UnixMicros()) {
      node.cordoned_until_unix_us = s.cordoned_until_us;
      node.cordoned_until =
          clock_->Now() +
          std::chrono::microseconds(s.cordoned_until_us - clock_->UnixMicros());
      node.cordon_reason = s.cordon_reason;
      cordons_[node.host()] = {node.cordoned_until, s.cordoned_until_us,
                               s.cordon_reason};
    }
    next_order_ = std::max(next_order_, s.ordinal + 1);
    index_[node.node_id] = nodes_.size();
    nodes_.push_back(std::move(node));
  }
  return Status::Ok();
}

NodeInfo* NodeManager::FindLocked(const std::string& node_id) {
  auto it = index_.find(node_id);
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

StatusOr<std::string> NodeManager::Register(
    const proto::NodeInventory& inventory, const std::string& agent_address,
    const std::string& previous_node_id) {
  // Decided under mu_, recorded without it (the store's write reaches the
  // disk), applied under it again: heartbeats never wait for the disk.
  StoredNode record;
  record.inventory = inventory;
  record.agent_address = agent_address;
  bool revive = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    NodeInfo* known = FindLocked(previous_node_id);
    // Only a node restored from an earlier run comes back under its id: a
    // node this run declared lost had its jobs failed over already, and the
    // hostname check keeps an agent from claiming another machine's node.
    if (known != nullptr && known->awaiting && !known->reviving &&
        known->inventory.hostname() == inventory.hostname()) {
      known->reviving = true;  // one registration takes it back
      revive = true;
      record.id = known->node_id;
      record.ordinal = known->order;
      record.registered_us = known->registered_unix_us;
      record.drained = known->drained;
      record.drain_reason = known->drain_reason;
      record.cordoned_until_us = known->cordoned_until_unix_us;
      record.cordon_reason = known->cordon_reason;
    } else {
      record.ordinal = next_order_++;
      record.id = "n-" + std::to_string(record.ordinal);
      record.registered_us = clock_->UnixMicros();
    }
  }
  // Recorded before the agent hears its id: a restarted coordinator never
  // hands that id to another node.
  const Status recorded =
      revive ? store_->UpdateNode(record) : store_->PutNode(record);
  std::lock_guard<std::mutex> lock(mu_);
  if (revive) {
    NodeInfo* known = FindLocked(record.id);
    known->reviving = false;
    DSTRAIN_RETURN_IF_ERROR(recorded);
    if (!known->awaiting) {
      // Lost (the restore grace ended) while it was being recorded.
      return Unavailable("node " + record.id +
                         " was declared lost while registering; register "
                         "again");
    }
    known->inventory = inventory;
    known->agent_address = agent_address;
    known->awaiting = false;
    known->alive = true;
    known->last_heartbeat = clock_->Now();
    registered_ = true;
    return record.id;
  }
  DSTRAIN_RETURN_IF_ERROR(recorded);  // the ordinal stays unused
  NodeInfo node;
  node.order = record.ordinal;
  node.node_id = record.id;
  node.inventory = inventory;
  node.agent_address = agent_address;
  node.registered_at = clock_->Now();
  node.registered_unix_us = record.registered_us;
  node.last_heartbeat = node.registered_at;
  auto cordon = cordons_.find(node.host());
  if (cordon != cordons_.end() && node.registered_at < cordon->second.until) {
    node.cordoned_until = cordon->second.until;
    node.cordoned_until_unix_us = cordon->second.until_unix_us;
    node.cordon_reason = cordon->second.reason;
  }
  registered_ = true;
  // In registration order, also when two registrations crossed.
  auto at = std::upper_bound(
      nodes_.begin(), nodes_.end(), node.order,
      [](std::int64_t order, const NodeInfo& n) { return order < n.order; });
  const bool last = at == nodes_.end();
  nodes_.insert(at, std::move(node));
  if (last) {
    index_[record.id] = nodes_.size() - 1;
  } else {  // rare: the positions after it moved
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      index_[nodes_[i].node_id] = i;
    }
  }
  return record.id;
}

bool NodeManager::Heartbeat(const std::string& node_id,
                            const std::vector<int>& running_ranks) {
  std::lock_guard<std::mutex> lock(mu_);
  NodeInfo* node = FindLocked(node_id);
  if (node == nullptr || !node->alive) return false;
  node->last_heartbeat = clock_->Now();
  node->running_ranks = running_ranks;
  node->last_heartbeat_unix_us = clock_->UnixMicros();
  dirty_heartbeats_[node_id] = node->last_heartbeat_unix_us;
  return true;
}

std::vector<std::string> NodeManager::CheckLiveness() {
  std::vector<std::string> lost;
  std::vector<std::pair<std::string, std::int64_t>> beats;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Clock::TimePoint now = clock_->Now();
    const Clock::Duration limit = heartbeat_interval_ * missed_before_lost_;
    for (NodeInfo& node : nodes_) {
      if (node.alive && now - node.last_heartbeat > limit) {
        node.alive = false;
        lost.push_back(node.node_id);
      } else if (node.awaiting && !node.reviving &&
                 now - node.registered_at > restore_grace_) {
        node.awaiting = false;
        lost.push_back(node.node_id);
      }
    }
    // Heartbeats reach the store in one write per interval, not one each.
    if (now - last_heartbeat_flush_ >= heartbeat_interval_ &&
        !dirty_heartbeats_.empty()) {
      beats.assign(dirty_heartbeats_.begin(), dirty_heartbeats_.end());
      dirty_heartbeats_.clear();
      last_heartbeat_flush_ = now;
    }
  }
  // Nobody to answer with a failure: the node is lost here either way (a
  // restarted coordinator would find it awaiting and lose it again), and a
  // heartbeat time not recorded is only an older one in the record.
  if (!lost.empty()) {
    Status s = store_->MarkNodesLost(lost);
    if (!s.ok()) log::Error("coordinator: " + s.message());
  }
  if (!beats.empty()) {
    Status s = store_->RecordHeartbeats(beats);
    if (!s.ok()) log::Error("coordinator: " + s.message());
  }
  return lost;
}

std::optional<NodeInfo> NodeManager::Get(const std::string& node_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(node_id);
  if (it == index_.end()) return std::nullopt;
  return nodes_[it->second];
}

std::vector<NodeInfo> NodeManager::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_;
}

std::vector<NodeInfo> NodeManager::SchedulableNodes() const {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::TimePoint now = clock_->Now();
  std::vector<NodeInfo> nodes;
  for (const NodeInfo& node : nodes_) {
    if (node.alive && !node.drained && !node.Cordoned(now)) {
      nodes.push_back(node);
    }
  }
  return nodes;
}

StoredNode NodeManager::RecordOf(const NodeInfo& node) {
  StoredNode record;
  record.id = node.node_id;
  record.ordinal = node.order;
  record.inventory = node.inventory;
  record.agent_address = node.agent_address;
  record.registered_us = node.registered_unix_us;
  record.lost = !node.alive && !node.awaiting;
  record.drained = node.drained;
  record.drain_reason = node.drain_reason;
  record.cordoned_until_us = node.cordoned_until_unix_us;
  record.cordon_reason = node.cordon_reason;
  return record;
}

std::vector<StoredNode> NodeManager::Cordon(const std::string& hostname,
                                            Clock::Duration duration,
                                            const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  HostCordon& c = cordons_[hostname];
  c.until = clock_->Now() + duration;
  c.until_unix_us =
      clock_->UnixMicros() +
      std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
  c.reason = reason;
  std::vector<StoredNode> records;
  for (NodeInfo& node : nodes_) {
    if (node.host() != hostname) continue;
    node.cordoned_until = c.until;
    node.cordoned_until_unix_us = c.until_unix_us;
    node.cordon_reason = reason;
    records.push_back(RecordOf(node));
  }
  return records;
}

StatusOr<std::string> NodeManager::SetDrain(const std::string& name,
                                            bool drained,
                                            const std::string& reason) {
  StoredNode record;
  {
    std::lock_guard<std::mutex> lock(mu_);
    NodeInfo* node = FindLocked(name);
    if (node == nullptr) {
      // A hostname: the live (or awaiting) node of that name.
      std::vector<NodeInfo*> named;
      for (NodeInfo& n : nodes_) {
        if (n.host() == name && (n.alive || n.awaiting)) named.push_back(&n);
      }
      if (named.size() > 1) {
        return InvalidArgument("node `" + name +
                               "`: " + std::to_string(named.size()) +
                               " nodes have that hostname; give the node id");
      }
      if (named.empty()) {
        return NotFound("no node `" + name +
                        "` (neither a node id nor the hostname of a live "
                        "node; `dstrain nodes` lists them)");
      }
      node = named[0];
    }
    node->drained = drained;
    node->drain_reason = drained ? reason : "";
    if (!drained) {
      cordons_.erase(node->host());
      node->cordoned_until_unix_us = 0;
      node->cordon_reason.clear();
    }
    record = RecordOf(*node);
  }
  DSTRAIN_RETURN_IF_ERROR(store_->UpdateNode(record));
  return record.id;
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
