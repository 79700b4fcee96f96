#pragma once
// Which NUMA node each local rank runs on (`binding.numa`, part of the
// per-node plan the agent applies): with `auto` on a node with two or more NUMA nodes that have CPUs,
// every rank's CPUs are restricted to one NUMA node's and its memory is
// preferred there, as `numactl --cpunodebind=N --preferred=N` would.
//
//   device cuda  a rank uses visible GPU LOCAL_RANK (CUDA_VISIBLE_DEVICES
//                maps it to the node's GPU index when it lists indices):
//                the NUMA node that GPU hangs off (the inventory's
//                numa_node), so host staging buffers and the CPU threads
//                feeding the GPU sit next to it;
//   device cpu   (or a GPU whose node is unknown) the ranks are spread in
//                contiguous blocks over the NUMA nodes: with 4 ranks on 2
//                nodes, ranks 0-1 on the first, 2-3 on the second. With
//                fewer cpu ranks than NUMA nodes nothing is bound: a bound
//                rank would leave whole nodes' cores to nobody.
//
// CPUs the agent may not use (its own affinity: a cgroup cpuset, taskset)
// are left out; a NUMA node left with none is not bound to. Memory-only
// nodes (no CPUs) are never chosen. `none`, or fewer than two usable NUMA
// nodes, binds nothing. Pure functions; thread-compatible.

#include <string>
#include <vector>

#include "dstrain.pb.h"

namespace dstrain::agent {

struct RankBinding {
  int numa_node = -1;     // < 0: not bound
  std::vector<int> cpus;  // the CPUs it may run on, ascending
};

// One entry per local rank 0 .. local_world - 1. `cuda_visible_devices` is
// the workers' CUDA_VISIBLE_DEVICES ("" when unset); UUIDs or MIG names in
// it leave the GPU's node unknown (blocks then).
std::vector<RankBinding> PlanNumaBinding(
    const proto::NodeInventory& inventory, const std::string& mode,
    const std::string& device, int local_world,
    const std::vector<int>& allowed_cpus,
    const std::string& cuda_visible_devices = "");

// "numa node 1, CPUs 8-15,24-31"; "not bound".
std::string DescribeBinding(const RankBinding& binding);

}  // namespace dstrain::agent
