#include "common/sizing/memory_plan.h"

#include "common/sizing/gpt_size.h"

namespace dstrain::sizing {

const char* FitName(Fit fit) {
  switch (fit) {
    case Fit::kFits:
      return "fits";
    case Fit::kFitsWithRecompute:
      return "fits with checkpointing";
    case Fit::kDoesNotFit:
      return "does not fit";
  }
  return "?";
}

int ComputeBytes(const config::JobConfig& job) {
  return job.amp.dtype == config::AmpDtype::kOff ? 4 : 2;
}

MemoryPlan PlanMemory(const config::JobConfig& job, int world,
                      std::int64_t usable_bytes) {
  MemoryPlan p;
  p.unit_numels = GptUnitNumels(job.model);
  p.params = GptParameterCount(job.model);
  p.world = world;
  p.param_bytes = ComputeBytes(job);
  p.activations =
      EstimateGptActivations(job.model, job.train.micro_batch, p.param_bytes);
  p.usable_bytes = usable_bytes;
  for (int stage = 0; stage <= 3; ++stage) {
    StageMemory& s = p.stages[static_cast<std::size_t>(stage)];
    s.stage = stage;
    s.state = ExactModelStateBytes(stage, p.unit_numels, world, p.param_bytes);
    s.transient = TransientModelStateBytes(stage, p.unit_numels, world,
                                           p.param_bytes, job.zero.prefetch);
    const std::int64_t model = s.state.total() + s.transient;
    s.total_without_recompute = model + p.activations.without_recompute;
    s.total_with_recompute = model + p.activations.with_recompute;
    s.fit = s.total_without_recompute <= usable_bytes ? Fit::kFits
            : s.total_with_recompute <= usable_bytes  ? Fit::kFitsWithRecompute
                                                      : Fit::kDoesNotFit;
  }
  return p;
}

bool FitsAsConfigured(const config::JobConfig& job, const MemoryPlan& plan) {
  const StageMemory& s = plan.configured(job);
  return (job.recompute.enabled
              ? s.total_with_recompute
              : s.total_without_recompute) <= plan.usable_bytes;
}

std::optional<SmallestFit> FindSmallestFit(const config::JobConfig& job,
                                           int procs_per_node,
                                           std::int64_t usable_bytes,
                                           int max_nodes) {
  // Stage 3 shrinks fastest with more ranks: when it does not fit on
  // max_nodes, nothing does. Memory only falls as nodes grow, so the
  // smallest count is found by bisection on "some stage fits".
  auto best_at = [&](int nodes) -> std::optional<SmallestFit> {
    const MemoryPlan p = PlanMemory(job, nodes * procs_per_node, usable_bytes);
    for (Fit want : {Fit::kFits, Fit::kFitsWithRecompute}) {
      for (const StageMemory& s : p.stages) {
        if (s.fit == Fit::kFits ||
            (want == Fit::kFitsWithRecompute && s.fit == want)) {
          return SmallestFit{s.stage, nodes, s.fit != Fit::kFits};
        }
      }
    }
    return std::nullopt;
  };
  if (!best_at(max_nodes).has_value()) return std::nullopt;
  int lo = 1, hi = max_nodes;
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (best_at(mid).has_value()) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return best_at(lo);
}

}  // namespace dstrain::sizing
