#pragma once
// The learning-rate schedule as a pure function of the step.
//
// Linear warm-up over `warmup_steps` (step k < warmup gets lr * (k+1) /
// warmup, so the first step already moves), then, over the remaining steps:
//   constant  lr
//   linear    from lr down to lr * min_lr_ratio
//   cosine    lr * (r + (1 - r) * (1 + cos(pi * p)) / 2), r = min_lr_ratio
// where p = (k - warmup) / (total - 1 - warmup) runs from 0 at the first
// step after warm-up to 1 at the last step (total - 1): the final step uses
// exactly lr * min_lr_ratio. Steps past the end keep that value.

#include "common/config/job_config.h"
#include "common/status.h"

namespace dstrain::optim {

enum class ScheduleKind { kConstant, kLinear, kCosine };

struct LrSchedule {
  ScheduleKind kind = ScheduleKind::kCosine;
  double base_lr = 0;
  int warmup_steps = 0;
  int total_steps = 1;
  double min_lr_ratio = 0.1;
};

// Builds the schedule of a job; an unknown type is INVALID_ARGUMENT naming
// `train.schedule.type`.
StatusOr<LrSchedule> MakeLrSchedule(const config::TrainConfig& train);

// The learning rate of optimizer step `step` (0-based).
double LearningRate(const LrSchedule& schedule, int step);

}  // namespace dstrain::optim
