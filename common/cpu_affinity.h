#pragma once
// The CPUs this process may run on, as the kernel says (sched_getaffinity):
// a cgroup cpuset, taskset or the agent's NUMA binding narrows it. The agent
// binds ranks within it; a worker reports what it was given.

#include <string>
#include <vector>

namespace dstrain {

// Ascending; empty if it cannot be read.
std::vector<int> ThisProcessCpus();

// "0-3,8,10-11" (the kernel's cpulist format).
std::string FormatCpuList(const std::vector<int>& cpus);

}  // namespace dstrain
