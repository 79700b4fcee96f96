#include "coordinator/node_status.h"

#include <chrono>
#include <map>
#include <string>

namespace dstrain::coordinator {

std::vector<proto::NodeStatus> NodeStatuses(const NodeManager& nodes,
                                            const JobManager& jobs) {
  const std::map<std::string, std::string> by_node = jobs.JobsByNode();
  const Clock::TimePoint now = nodes.Now();
  std::vector<proto::NodeStatus> out;
  for (const NodeInfo& n : nodes.List()) {
    proto::NodeStatus& s = out.emplace_back();
    s.set_node_id(n.node_id);
    s.set_hostname(n.host());
    s.set_state(n.alive ? (n.drained         ? "drained"
                           : n.Cordoned(now) ? "cordoned"
                                             : "alive")
                        : (n.awaiting ? "awaiting" : "lost"));
    s.set_heartbeat_age_s(
        n.alive ? std::chrono::duration<double>(now - n.last_heartbeat).count()
                : -1);
    s.set_cpus(n.inventory.cpus());
    s.set_memory_bytes(n.inventory.memory_bytes());
    s.set_gpus(n.inventory.gpus_size());
    s.set_hcas(n.inventory.hcas_size());
    auto job = by_node.find(n.node_id);
    if (job != by_node.end()) s.set_job_id(job->second);
    s.set_drain_reason(n.drain_reason);
    if (n.Cordoned(now)) {
      s.set_cordoned_until_unix_us(n.cordoned_until_unix_us);
      s.set_cordon_reason(n.cordon_reason);
    }
    s.set_agent_address(n.agent_address);
    *s.mutable_inventory() = n.inventory;
  }
  return out;
}

}  // namespace dstrain::coordinator
