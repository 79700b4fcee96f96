#include "worker/amp/loss_scaler.h"

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

namespace dstrain::amp {
namespace {

at::TensorOptions On(c10::Device device, at::ScalarType dtype) {
  return at::TensorOptions().device(device).dtype(dtype);
}

}  // namespace

LossScaler::LossScaler() : LossScaler(DisabledLossScalerState(), c10::kCPU) {}

LossScaler::LossScaler(const LossScalerState& state, c10::Device device)
    : enabled_(state.enabled),
      growth_factor_(state.growth_factor),
      backoff_factor_(state.backoff_factor),
      growth_interval_(state.growth_interval),
      device_(device) {
  if (!enabled_) return;
  scale_ = at::full({}, state.scale, On(device, at::kFloat));
  growth_tracker_ = at::full({}, state.growth_tracker, On(device, at::kInt));
  found_inf_ = at::zeros({}, On(device, at::kFloat));
}

StatusOr<LossScaler> LossScaler::Create(const LossScalerOptions& options,
                                        c10::Device device) {
  LossScalerState s;
  s.enabled = true;
  s.scale = options.init_scale;
  s.growth_tracker = 0;
  s.growth_factor = options.growth_factor;
  s.backoff_factor = options.backoff_factor;
  s.growth_interval = options.growth_interval;
  return FromState(s, device);
}

StatusOr<LossScaler> LossScaler::FromState(const LossScalerState& state,
                                           c10::Device device) {
  DSTRAIN_RETURN_IF_ERROR(ValidateLossScalerState(state));
  return LossScaler(state, device);
}

at::Tensor LossScaler::Scale(const at::Tensor& loss) const {
  if (!enabled_) return loss;
  return loss * scale_.to(loss.device(), /*non_blocking=*/true);
}

Status LossScaler::Unscale(at::TensorList grads) {
  if (!enabled_) return Status::Ok();
  // Group by dtype, as GradScaler._unscale_grads_ does per device and dtype:
  // the foreach kernel takes tensors of one dtype at a time.
  std::map<at::ScalarType, std::vector<at::Tensor>> by_dtype;
  for (std::size_t i = 0; i < grads.size(); ++i) {
    const at::Tensor& g = grads[i];
    if (!g.defined()) continue;
    const std::string which = "gradient " + std::to_string(i);
    if (g.device() != device_) {
      return InvalidArgument(which + " is on " + g.device().str() +
                             ", the loss scaler on " + device_.str());
    }
    if (g.is_sparse()) return InvalidArgument(which + " is sparse");
    if (!at::isFloatingType(g.scalar_type())) {
      return InvalidArgument(which + " is " +
                             std::string(c10::toString(g.scalar_type())) +
                             ", not floating point");
    }
    if (g.scalar_type() == at::kHalf) {
      // GradScaler: "Attempting to unscale FP16 gradients."
      return InvalidArgument(which +
                             " is float16: unscale fp32 master gradients");
    }
    by_dtype[g.scalar_type()].push_back(g);
  }
  if (!unscaled_) {
    found_inf_.zero_();
    unscaled_ = true;
  }
  // The reciprocal in float64, as GradScaler.unscale_ (fp32 division can be
  // imprecise under some compile options).
  const at::Tensor inv_scale =
      scale_.to(at::kDouble).reciprocal().to(at::kFloat);
  for (auto& [dtype, group] : by_dtype) {
    at::_amp_foreach_non_finite_check_and_unscale_(group, found_inf_,
                                                   inv_scale);
  }
  return Status::Ok();
}

Status LossScaler::AgreeOnFoundInf(comm::Communicator& comm) {
  if (!enabled_) return Status::Ok();
  if (!unscaled_) {
    return FailedPrecondition(
        "loss scaler: AgreeOnFoundInf before Unscale in this step");
  }
  if (comm.size() <= 1) return Status::Ok();
  at::Tensor flag = found_inf_.view({1});  // shares found_inf_'s storage
  return comm::Await(comm.AllReduce(flag, comm::ReduceOp::kMax));
}

StatusOr<bool> LossScaler::LocalFoundInf() const {
  if (!enabled_) return false;
  if (!unscaled_) {
    return FailedPrecondition(
        "loss scaler: LocalFoundInf before Unscale in this step");
  }
  return found_inf_.item<float>() != 0.0f;
}

Status LossScaler::AdoptGroupFoundInf(bool any_rank_found_inf) {
  if (!enabled_) return Status::Ok();
  if (!unscaled_) {
    return FailedPrecondition(
        "loss scaler: AdoptGroupFoundInf before Unscale in this step");
  }
  found_inf_.fill_(any_rank_found_inf ? 1.0 : 0.0);
  return Status::Ok();
}

bool LossScaler::ShouldSkipStep() const {
  if (!enabled_ || !unscaled_) return false;
  // GradScaler._maybe_opt_step: skip unless the flag reads 0 (NaN skips).
  return found_inf_.item<float>() != 0.0f;
}

Status LossScaler::Update() {
  if (!enabled_) return Status::Ok();
  if (!unscaled_) {
    return FailedPrecondition(
        "loss scaler: Update without Unscale in this step (no inf checks "
        "were recorded)");
  }
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, growth_factor_,
                         backoff_factor_, growth_interval_);
  unscaled_ = false;
  return Status::Ok();
}

double LossScaler::scale() const {
  return enabled_ ? static_cast<double>(scale_.item<float>()) : 1.0;
}

std::int64_t LossScaler::growth_tracker() const {
  return enabled_ ? static_cast<std::int64_t>(growth_tracker_.item<int>()) : 0;
}

LossScalerState LossScaler::state() const {
  if (!enabled_) return DisabledLossScalerState();
  LossScalerState s;
  s.enabled = true;
  s.scale = scale();
  s.growth_tracker = growth_tracker();
  s.growth_factor = growth_factor_;
  s.backoff_factor = backoff_factor_;
  s.growth_interval = growth_interval_;
  return s;
}

}  // namespace dstrain::amp
