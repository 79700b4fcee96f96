#pragma once
// `dstrain plan JOB.yaml`: whether a job fits before it runs, in well under
// a second and without starting anything: its parameter count (exactly the
// engine's), per-rank bytes of parameters, gradients, optimizer state and
// master weights for ZeRO stages 0-3, what a step adds, activations per
// micro-batch with and without checkpointing (an estimate), the operators'
// rule of thumb beside the computed figure, a verdict per stage, the
// smallest stage and node count that fits, the step's compute at the
// device's peak (named GPUs), its collectives and their predicted time on
// a cluster description (cli/plan/).
//
//   --nodes N             default the job's nodes.min (the tightest case)
//   --procs-per-node P    default the job's procs_per_node
//   --gpu MODEL           a device of the built-in table (H100, A100-80GB,
//                         RTX 4090, ...; `dstrain plan --gpu list` lists it)
//   --device-memory GiB   a device's memory (alone or overriding --gpu's)
//   --cluster FILE|SPEC   the fabric (default the job's topology.cluster)
//   --set key=value       job overrides, as `dstrain launch`
//   --json                one JSON object on stdout
// Without --gpu or --device-memory: this node's smallest GPU for device:
// cuda, its memory shared by the ranks for device: cpu.
//
// Exit codes: 0 the job fits as configured; 3 it does not (the report
// says what would); 2 bad arguments or job file (one line on stderr).

#include <string>
#include <vector>

namespace dstrain::cli {

struct PlanCommandOptions {
  std::string job_path;
  std::vector<std::string> overrides;
  int nodes = 0;           // 0: the job's nodes.min
  int procs_per_node = 0;  // 0: the job's
  std::string gpu;
  double device_memory_gib = 0;
  std::string cluster;
  bool json = false;
};

inline constexpr int kExitDoesNotFit = 3;

int RunPlanCommand(const PlanCommandOptions& options);

}  // namespace dstrain::cli
