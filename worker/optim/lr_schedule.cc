#include "worker/optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace dstrain::optim {

StatusOr<LrSchedule> MakeLrSchedule(const config::TrainConfig& train) {
  LrSchedule s;
  const std::string& type = train.schedule.type;
  if (type == "cosine") {
    s.kind = ScheduleKind::kCosine;
  } else if (type == "linear") {
    s.kind = ScheduleKind::kLinear;
  } else if (type == "constant") {
    s.kind = ScheduleKind::kConstant;
  } else {
    return InvalidArgument("train.schedule.type `" + type +
                           "` is not one of cosine, linear, constant");
  }
  s.base_lr = train.optimizer.lr;
  s.warmup_steps = std::max(0, train.schedule.warmup_steps);
  s.total_steps = std::max(1, train.steps);
  s.min_lr_ratio = train.schedule.min_lr_ratio;
  return s;
}

double LearningRate(const LrSchedule& s, int step) {
  if (step < s.warmup_steps) {
    return s.base_lr * (step + 1) / s.warmup_steps;
  }
  if (s.kind == ScheduleKind::kConstant) return s.base_lr;
  // The last step (total - 1) is where the decay ends, so the run trains
  // its final step at exactly lr * min_lr_ratio, as the docs promise.
  const int span = std::max(1, s.total_steps - 1 - s.warmup_steps);
  const double p =
      std::clamp(static_cast<double>(step - s.warmup_steps) / span, 0.0, 1.0);
  const double r = s.min_lr_ratio;
  if (s.kind == ScheduleKind::kLinear) return s.base_lr * (1.0 - (1.0 - r) * p);
  return s.base_lr *
         (r + (1.0 - r) * 0.5 * (1.0 + std::cos(std::numbers::pi * p)));
}

}  // namespace dstrain::optim
