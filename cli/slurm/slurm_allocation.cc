#include "cli/slurm/slurm_allocation.h"

#include <charconv>
#include <sstream>

#include "topology/io/hostlist.h"

namespace dstrain::cli {
namespace {

// A count Slurm wrote ("4", or "4(x2)" for per-node lists, of which the
// first is this node's); nullopt for anything else.
std::optional<int> SlurmCount(const std::string& text) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || p == text.data() || value < 0) return std::nullopt;
  if (p != end && *p != '(' && *p != ',') return std::nullopt;
  return value;
}

Status ReadCount(const contract::EnvLookup& env, const char* name, int* out) {
  const std::optional<std::string> v = env(name);
  if (!v.has_value() || v->empty()) return Status::Ok();
  const std::optional<int> n = SlurmCount(*v);
  if (!n.has_value()) {
    return InvalidArgument(std::string(name) + "=`" + *v +
                           "` is not a count; is this a Slurm allocation?");
  }
  *out = *n;
  return Status::Ok();
}

}  // namespace

StatusOr<std::optional<SlurmAllocation>> ReadSlurmAllocation(
    const contract::EnvLookup& env) {
  const std::optional<std::string> off = env("DSTRAIN_SLURM");
  if (off.has_value() && *off == "0") return std::optional<SlurmAllocation>();
  const std::optional<std::string> id = env("SLURM_JOB_ID");
  const std::optional<std::string> list = env("SLURM_JOB_NODELIST");
  if (!id.has_value() || id->empty() || !list.has_value() || list->empty()) {
    return std::optional<SlurmAllocation>();
  }
  SlurmAllocation a;
  a.job_id = *id;
  a.nodelist = *list;
  StatusOr<std::vector<std::string>> nodes = topology::ExpandHostList(*list);
  if (!nodes.ok()) {
    return InvalidArgument("SLURM_JOB_NODELIST: " + nodes.status().message());
  }
  a.nodes = std::move(nodes).value();
  int num_nodes = 0;
  DSTRAIN_RETURN_IF_ERROR(ReadCount(env, "SLURM_JOB_NUM_NODES", &num_nodes));
  if (num_nodes != 0 && num_nodes != static_cast<int>(a.nodes.size())) {
    return InvalidArgument("SLURM_JOB_NUM_NODES=" + std::to_string(num_nodes) +
                           " but SLURM_JOB_NODELIST=`" + *list + "` names " +
                           std::to_string(a.nodes.size()) + " nodes");
  }
  DSTRAIN_RETURN_IF_ERROR(
      ReadCount(env, "SLURM_CPUS_ON_NODE", &a.cpus_on_node));
  DSTRAIN_RETURN_IF_ERROR(
      ReadCount(env, "SLURM_GPUS_ON_NODE", &a.gpus_on_node));
  DSTRAIN_RETURN_IF_ERROR(
      ReadCount(env, "SLURM_NTASKS_PER_NODE", &a.ntasks_per_node));
  DSTRAIN_RETURN_IF_ERROR(
      ReadCount(env, "SLURM_GPUS_PER_TASK", &a.gpus_per_task));
  DSTRAIN_RETURN_IF_ERROR(
      ReadCount(env, "SLURM_RESTART_COUNT", &a.restart_count));
  a.gpu_bind = env("SLURM_GPU_BIND").value_or("");
  return std::optional<SlurmAllocation>(std::move(a));
}

AllocationCheck CheckJobAgainstAllocation(const config::JobConfig& job,
                                          const SlurmAllocation& alloc) {
  AllocationCheck c;
  const int nodes = static_cast<int>(alloc.nodes.size());
  const std::string where =
      "Slurm job " + alloc.job_id + " (" + std::to_string(nodes) + " node" +
      (nodes == 1 ? "" : "s") + ": " + alloc.nodelist + ")";
  if (job.nodes.min > nodes) {
    c.errors.push_back("nodes.min = " + std::to_string(job.nodes.min) + " in " +
                       job.source_path + " but " + where +
                       " has fewer: submit with `sbatch -N " +
                       std::to_string(job.nodes.min) + "` or lower nodes.min");
  }
  if (job.device == config::Device::kCuda && alloc.gpus_on_node > 0 &&
      job.procs_per_node > alloc.gpus_on_node) {
    c.errors.push_back(
        "procs_per_node = " + std::to_string(job.procs_per_node) +
        " cuda ranks but " + where + " gives each node " +
        std::to_string(alloc.gpus_on_node) +
        " GPU(s): ask for --gpus-per-node=" +
        std::to_string(job.procs_per_node));
  }
  const int threads = job.procs_per_node * job.threads_per_proc;
  if (alloc.cpus_on_node > 0 && threads > alloc.cpus_on_node) {
    c.warnings.push_back(
        "warning: " + std::to_string(job.procs_per_node) + " ranks x " +
        std::to_string(job.threads_per_proc) + " threads per node, but " +
        where + " gives this node " + std::to_string(alloc.cpus_on_node) +
        " CPUs (SLURM_CPUS_ON_NODE): the ranks will share cores");
  }
  if (job.device == config::Device::kCuda &&
      (alloc.gpus_per_task == 1 ||
       alloc.gpu_bind.find("single") != std::string::npos ||
       alloc.gpu_bind.find("map_gpu") != std::string::npos)) {
    c.warnings.push_back(
        "warning: the allocation binds one GPU per task (" +
        (alloc.gpu_bind.empty() ? std::string("--gpus-per-task=1")
                                : "--gpu-bind=" + alloc.gpu_bind) +
        "): each rank would see only its own GPU and NCCL could not use "
        "peer-to-peer between them; dstrain runs one agent per node that "
        "gives each rank its GPU itself: submit without --gpu-bind and "
        "--gpus-per-task");
  }
  return c;
}

std::string TopologyConfFromScontrol(const std::string& scontrol_output) {
  std::istringstream in(scontrol_output);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("SwitchName=", 0) != 0) continue;
    // scontrol also lists, on a switch above the leaves, every node under
    // it (Nodes=) beside its child switches; topology.conf names one or
    // the other.
    const bool has_switches = line.find(" Switches=") != std::string::npos;
    std::istringstream fields(line);
    std::string field, kept;
    while (fields >> field) {
      if (field.rfind("Level=", 0) == 0) continue;
      if (has_switches && field.rfind("Nodes=", 0) == 0) continue;
      kept += (kept.empty() ? "" : " ") + field;
    }
    out += kept + "\n";
  }
  return out;
}

std::string NodeAddrFromScontrol(const std::string& scontrol_output) {
  std::istringstream in(scontrol_output);
  std::string field;
  while (in >> field) {
    if (field.rfind("NodeAddr=", 0) == 0) return field.substr(9);
  }
  return "";
}

}  // namespace dstrain::cli
