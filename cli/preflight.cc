#include "cli/preflight.h"

#include <algorithm>

namespace dstrain::cli {

Preflight CheckJobOnNode(const config::JobConfig& job,
                         const proto::NodeInventory& node) {
  Preflight p;
  const int ranks = job.procs_per_node;
  if (job.device == config::Device::kCuda && node.gpus_size() < ranks) {
    p.fatal = InvalidArgument(
        "device: cuda with procs_per_node " + std::to_string(ranks) + ", but " +
        node.hostname() + " has " +
        (node.gpus_size() == 0
             ? std::string("no NVIDIA GPU (nvidia-smi lists none)")
             : std::to_string(node.gpus_size()) + " GPU" +
                   (node.gpus_size() == 1 ? "" : "s")) +
        "; set device: cpu, or procs_per_node to at most the GPU count");
    return p;
  }
  if (node.cpus() > 0 && ranks > node.cpus()) {
    p.warnings.push_back(
        "warning: " + std::to_string(ranks) + " ranks on " +
        std::to_string(node.cpus()) + " CPU" + (node.cpus() == 1 ? "" : "s") +
        " of " + node.hostname() +
        ": ranks will share cores and every step waits for the slowest");
  }
  return p;
}

DeviceChoice DeviceChoiceOf(const proto::NodeInventory& node) {
  DeviceChoice c;
  for (const proto::Gpu& g : node.gpus()) {
    if (c.local_gpu_bytes == 0 || g.memory_bytes() < c.local_gpu_bytes) {
      c.local_gpu_bytes = g.memory_bytes();
      c.local_gpu_name = g.name();
    }
  }
  c.host_memory_bytes = node.memory_bytes();
  return c;
}

Preflight CheckJobFits(const config::JobConfig& job,
                       const proto::NodeInventory& node, int nodes,
                       const std::string& job_arg) {
  Preflight p;
  // A GPU job on a node without one is CheckJobOnNode's to refuse.
  if (job.device == config::Device::kCuda && node.gpus_size() == 0) return p;
  StatusOr<RankDevice> device =
      ResolveRankDevice(job, job.procs_per_node, DeviceChoiceOf(node));
  if (!device.ok()) {
    p.warnings.push_back("warning: memory not checked: " +
                         device.status().message());
    return p;
  }
  // The fabric is not needed for the verdict.
  StatusOr<JobPlan> plan =
      MakeJobPlan(job, {std::max(nodes, 1), job.procs_per_node, ""}, *device);
  if (!plan.ok()) {
    p.warnings.push_back("warning: memory not checked: " +
                         plan.status().message());
    return p;
  }
  if (!plan->fits) {
    p.does_not_fit = true;
    p.fatal = FailedPrecondition(
        "the job does not fit: " + plan->verdict + " (`dstrain plan " +
        job_arg + "` shows the figures; --force launches it anyway)");
  }
  return p;
}

}  // namespace dstrain::cli
