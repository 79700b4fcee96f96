#pragma once
// What `dstrain plan` (and `dstrain launch` before it starts anything)
// works out for a job: its size, the memory of each ZeRO stage on the
// device a rank gets, a verdict, the smallest stage and node count that
// fits, an estimate of the step's compute, the step's collectives and —
// with a cluster description — their predicted time on that fabric.
// Pure apart from reading the cluster file; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/sizing/devices.h"
#include "common/sizing/memory_plan.h"
#include "common/sizing/step_collectives.h"
#include "common/status.h"

namespace dstrain::cli {

// The device one rank gets. For GPUs: memory as sold (nvidia-smi's
// total); `reserve` is what the CUDA context, NCCL's buffers and the
// caching allocator's slack take before the model gets any (1 GiB). For
// CPU ranks: the node's memory shared by its ranks, less 0.5 GiB per rank
// for the process itself (libtorch, the runtime).
struct RankDevice {
  std::string description;  // "H100 (80 GiB)", "host memory 23.4 GiB / 4"
  std::int64_t memory_bytes = 0;
  std::int64_t reserve_bytes = 0;
  double dense_tflops = 0;  // 0: unknown (no compute estimate)
  bool gpu = false;

  std::int64_t usable() const { return memory_bytes - reserve_bytes; }
};

inline constexpr std::int64_t kGpuReserveBytes = std::int64_t{1} << 30;
inline constexpr std::int64_t kCpuReservePerRank = std::int64_t{1} << 29;

// The device as described by the command line or the node: `gpu` names a
// table entry (sizing/devices.h), `device_memory_gib` > 0 overrides its
// memory (or stands alone); with neither, `local_gpu_name` and
// `local_gpu_bytes` (the node's smallest GPU, for device: cuda) or
// `host_memory_bytes` (device: cpu) are used. INVALID_ARGUMENT names the
// flag and the choices.
struct DeviceChoice {
  std::string gpu;               // --gpu
  double device_memory_gib = 0;  // --device-memory
  std::string local_gpu_name;
  std::int64_t local_gpu_bytes = 0;
  std::int64_t host_memory_bytes = 0;
};
StatusOr<RankDevice> ResolveRankDevice(const config::JobConfig& job,
                                       int procs_per_node,
                                       const DeviceChoice& choice);

struct PlanShape {
  int nodes = 1;
  int procs_per_node = 1;
  std::string cluster;  // a cluster file or generator spec; "" = none
};

struct CommEstimate {
  std::vector<sizing::CollectiveCall> calls;
  std::vector<double> call_seconds;  // per call, all `count` of them; empty
                                     // without a cluster
  double sent_bytes_per_rank = 0;
  std::optional<double> seconds;  // with a cluster
  std::string fabric;             // the cluster's name
  std::string note;               // why there is no prediction
};

struct JobPlan {
  config::JobConfig job;
  PlanShape shape;
  int world = 1;
  RankDevice device;
  sizing::MemoryPlan memory;
  bool fits = false;    // as configured: its stage and recompute setting
  std::string verdict;  // one line: why it fits or not, and what would
  std::optional<sizing::SmallestFit> smallest;
  double rule_of_thumb_gb = 0;
  double flops_per_token = 0;
  std::int64_t tokens_per_rank_step = 0;
  // Compute time of one step at 50% and 30% model-FLOPs utilisation (GPUs
  // of the table only; recomputation adds a forward: 8 instead of 6 FLOPs
  // per parameter and token).
  std::optional<double> step_seconds_fast;
  std::optional<double> step_seconds_slow;
  CommEstimate comm;
};

StatusOr<JobPlan> MakeJobPlan(const config::JobConfig& job,
                              const PlanShape& shape, const RankDevice& device);

}  // namespace dstrain::cli
