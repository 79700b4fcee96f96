#include "agent/numa_binding.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <vector>

#include "common/cpu_affinity.h"
#include "common/strings.h"

namespace dstrain::agent {
namespace {

struct UsableNode {
  int id = 0;
  std::vector<int> cpus;
};

// NUMA nodes with at least one CPU the agent may use, by id.
std::vector<UsableNode> UsableNodes(const proto::NodeInventory& inventory,
                                    const std::vector<int>& allowed_cpus) {
  const std::set<int> allowed(allowed_cpus.begin(), allowed_cpus.end());
  std::vector<UsableNode> out;
  for (const proto::NumaNode& n : inventory.numa_nodes()) {
    UsableNode u;
    u.id = n.id();
    for (int cpu : n.cpus()) {
      if (allowed.count(cpu) != 0) u.cpus.push_back(cpu);
    }
    std::sort(u.cpus.begin(), u.cpus.end());
    if (!u.cpus.empty()) out.push_back(std::move(u));
  }
  std::sort(
      out.begin(), out.end(),
      [](const UsableNode& a, const UsableNode& b) { return a.id < b.id; });
  return out;
}

// The NUMA node of the GPU with `index`, -1 when the inventory lacks it.
int GpuNode(const proto::NodeInventory& inventory, int index) {
  for (const proto::Gpu& g : inventory.gpus()) {
    if (g.index() == index) return g.numa_node();
  }
  return -1;
}

// The node's GPU index of visible device `r`: r itself when
// CUDA_VISIBLE_DEVICES is unset, its r-th entry when that is a number, -1
// otherwise (a UUID, a MIG name, too short a list).
int GpuIndexOf(int r, const std::string& visible) {
  if (visible.empty()) return r;
  const std::vector<std::string_view> items = Split(visible, ',');
  if (r < 0 || r >= static_cast<int>(items.size())) return -1;
  return ParseInteger<int>(items[r]).value_or(-1);
}

}  // namespace

std::vector<RankBinding> PlanNumaBinding(
    const proto::NodeInventory& inventory, const std::string& mode,
    const std::string& device, int local_world,
    const std::vector<int>& allowed_cpus,
    const std::string& cuda_visible_devices) {
  std::vector<RankBinding> out(std::max(local_world, 0));
  if (mode != "auto") return out;
  const std::vector<UsableNode> nodes = UsableNodes(inventory, allowed_cpus);
  if (nodes.size() < 2) return out;
  const int n = static_cast<int>(nodes.size());
  if (device != "cuda" && local_world < n) return out;
  for (int r = 0; r < local_world; ++r) {
    const UsableNode* chosen = nullptr;
    if (device == "cuda") {
      const int gpu = GpuIndexOf(r, cuda_visible_devices);
      const int gpu_node = gpu >= 0 ? GpuNode(inventory, gpu) : -1;
      for (const UsableNode& u : nodes) {
        if (u.id == gpu_node) chosen = &u;
      }
    }
    if (chosen == nullptr)
      chosen = &nodes[static_cast<long>(r) * n / local_world];
    out[r].numa_node = chosen->id;
    out[r].cpus = chosen->cpus;
  }
  return out;
}

std::string DescribeBinding(const RankBinding& binding) {
  if (binding.numa_node < 0) return "not bound";
  return "numa node " + std::to_string(binding.numa_node) + ", CPUs " +
         FormatCpuList(binding.cpus);
}

}  // namespace dstrain::agent
