#include "cli/preflight.h"

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

}  // namespace dstrain::cli
