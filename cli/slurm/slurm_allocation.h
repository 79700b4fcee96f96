#pragma once
// A Slurm allocation as `dstrain launch` sees it from inside (sbatch,
// salloc): read from the variables Slurm sets, and checked against a job
// before anything starts. Pure.
//
//   SLURM_JOB_ID           the allocation (recorded on the dstrain job)
//   SLURM_JOB_NODELIST     its nodes, a host-list expression
//                          (topology/io/hostlist.h: node[01-04])
//   SLURM_JOB_NUM_NODES    their count (checked against the list)
//   SLURM_CPUS_ON_NODE     CPUs here, SLURM_GPUS_ON_NODE GPUs here
//   SLURM_NTASKS_PER_NODE, SLURM_GPUS_PER_TASK, SLURM_GPU_BIND
//                          how the user asked tasks to be laid out
//   SLURM_RESTART_COUNT    > 0 when the job was requeued
//
// DSTRAIN_SLURM=0 makes a launch ignore the allocation (an embedded
// coordinator and agent on this node only, as outside Slurm).

#include <optional>
#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/contract/worker_env.h"
#include "common/status.h"

namespace dstrain::cli {

struct SlurmAllocation {
  std::string job_id;
  std::string nodelist;            // as Slurm wrote it
  std::vector<std::string> nodes;  // expanded, in Slurm's order
  int cpus_on_node = 0;            // 0: not said
  int gpus_on_node = 0;
  int ntasks_per_node = 0;
  int gpus_per_task = 0;
  std::string gpu_bind;
  int restart_count = 0;
};

// nullopt outside an allocation (no SLURM_JOB_ID or SLURM_JOB_NODELIST) or
// with DSTRAIN_SLURM=0. INVALID_ARGUMENT naming the variable when a value
// is malformed (a bad host list, a count that is not a number, a node
// count that disagrees with the list).
StatusOr<std::optional<SlurmAllocation>> ReadSlurmAllocation(
    const contract::EnvLookup& env);

// What the job needs of the allocation: `errors` stop the launch before
// anything starts (more nodes than allocated, a cuda job with more ranks
// per node than GPUs here), `warnings` are printed (more CPU threads than
// CPUs, one GPU per task, which hides the node's other GPUs from NCCL's
// peer-to-peer paths).
struct AllocationCheck {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};
AllocationCheck CheckJobAgainstAllocation(const config::JobConfig& job,
                                          const SlurmAllocation& alloc);

// `scontrol show topology` as a topology.conf the planner reads
// (topology/io/slurm_topology.h): its lines less what scontrol adds (a
// Level= field, and on switches above the leaves the Nodes= beneath them
// beside their Switches=). "" when Slurm knows no topology (no SwitchName
// lines).
std::string TopologyConfFromScontrol(const std::string& scontrol_output);

// NodeAddr= of `scontrol show node NAME` output; "" when absent.
std::string NodeAddrFromScontrol(const std::string& scontrol_output);

}  // namespace dstrain::cli
