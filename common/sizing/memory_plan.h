#pragma once
// Whether a job's model fits a device, per ZeRO stage: the per-rank bytes
// of model state (exact, as the engine allocates them), what a step adds
// on top (gathered units, full gradients: an estimate), activations of one
// micro-batch with and without checkpointing (an estimate), against the
// memory a rank may use. Pure functions; thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/config/job_config.h"
#include "common/sizing/activation_estimate.h"
#include "common/sizing/model_state_formula.h"

namespace dstrain::sizing {

enum class Fit { kFits, kFitsWithRecompute, kDoesNotFit };

// "fits", "fits with checkpointing", "does not fit".
const char* FitName(Fit fit);

struct StageMemory {
  int stage = 0;
  ModelStateBytes state;                     // at rest, exact
  std::int64_t transient = 0;                // on top while a step runs
  std::int64_t total_without_recompute = 0;  // state + transient + act.
  std::int64_t total_with_recompute = 0;
  Fit fit = Fit::kDoesNotFit;
};

struct MemoryPlan {
  std::int64_t params = 0;
  std::vector<std::int64_t> unit_numels;  // root first
  int world = 1;
  int param_bytes = 4;  // compute dtype
  ActivationEstimate activations;
  std::int64_t usable_bytes = 0;  // what one rank may use
  std::array<StageMemory, 4> stages;

  // The job's own stage and checkpointing setting.
  const StageMemory& configured(const config::JobConfig& job) const {
    return stages[static_cast<std::size_t>(job.zero.stage)];
  }
};

// 2 for fp16/bf16 compute, 4 for fp32.
int ComputeBytes(const config::JobConfig& job);

// The plan for `job` on `world` ranks, each with `usable_bytes`.
MemoryPlan PlanMemory(const config::JobConfig& job, int world,
                      std::int64_t usable_bytes);

// Whether the job as configured (its stage, recompute on or off) fits.
bool FitsAsConfigured(const config::JobConfig& job, const MemoryPlan& plan);

struct SmallestFit {
  int stage = 0;
  int nodes = 1;
  bool recompute = false;
};

// The fewest nodes of `procs_per_node` ranks (up to max_nodes) on which
// some stage fits, without checkpointing if it can, and at that count the
// lowest such stage (less communication); nullopt when none does (the
// activations of one micro-batch alone exceed the device).
std::optional<SmallestFit> FindSmallestFit(const config::JobConfig& job,
                                           int procs_per_node,
                                           std::int64_t usable_bytes,
                                           int max_nodes = 65536);

}  // namespace dstrain::sizing
