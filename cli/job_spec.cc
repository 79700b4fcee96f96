#include "cli/job_spec.h"

#include <filesystem>

namespace dstrain::cli {

proto::JobSpec MakeJobSpec(const config::JobConfig& job,
                           const std::string& yaml_text,
                           const std::string& source_path,
                           const std::vector<std::string>& overrides,
                           const std::string& run_dir) {
  proto::JobSpec spec;
  spec.set_name(job.name);
  spec.set_yaml(yaml_text);
  spec.set_source_path(source_path);
  spec.set_procs_per_node(job.procs_per_node);
  spec.set_nodes_min(job.nodes.min);
  spec.set_nodes_max(job.nodes.max);
  spec.set_run_dir(run_dir);
  for (const auto& o : overrides) spec.add_overrides(o);
  // The loader made the cluster path absolute (relative to the job file).
  spec.mutable_topology()->set_cluster_path(job.topology.cluster);
  spec.mutable_topology()->set_algorithm(job.topology.algorithm);
  spec.set_numa_binding(job.binding.numa);
  spec.set_device(config::DeviceName(job.device));
  spec.set_priority(job.priority);
  spec.set_micro_batch(job.train.micro_batch);
  spec.set_grad_accum(job.train.grad_accum);
  return spec;
}

std::string ResolveRunDir(const std::string& run_dir_flag,
                          const std::string& job_name, const std::string& cwd) {
  std::filesystem::path p = run_dir_flag.empty()
                                ? std::filesystem::path("runs") / job_name
                                : std::filesystem::path(run_dir_flag);
  if (p.is_relative()) p = std::filesystem::path(cwd) / p;
  return p.lexically_normal().string();
}

Status CheckEmbeddable(const config::JobConfig& job) {
  if (job.nodes.min > 1) {
    return InvalidArgument(
        "nodes.min = " + std::to_string(job.nodes.min) + " in " +
        job.source_path +
        " needs more than this one node; the embedded coordinator runs only "
        "this machine: start `dstrain coordinator` and an agent per node, "
        "then pass --coordinator ADDR");
  }
  return Status::Ok();
}

}  // namespace dstrain::cli
