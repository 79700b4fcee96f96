#include "worker/amp/amp_step.h"

namespace dstrain::amp {

StatusOr<AmpStep> AmpStep::Create(config::AmpDtype dtype, c10::Device device) {
  DSTRAIN_ASSIGN_OR_RETURN(AmpPolicy policy,
                           MakeAmpPolicy(dtype, device.type()));
  DSTRAIN_ASSIGN_OR_RETURN(LossScaler scaler, MakeLossScaler(policy, device));
  return AmpStep(policy, std::move(scaler), device);
}

StatusOr<bool> AmpStep::UnscaleAndCheck(const at::Tensor& grads) {
  if (!scaler_.enabled()) return false;
  DSTRAIN_RETURN_IF_ERROR(scaler_.Unscale({grads}));
  return scaler_.LocalFoundInf();
}

StatusOr<bool> AmpStep::Agree(bool any_rank_found_inf) {
  if (!scaler_.enabled()) return false;
  DSTRAIN_RETURN_IF_ERROR(scaler_.AdoptGroupFoundInf(any_rank_found_inf));
  return scaler_.ShouldSkipStep();
}

Status AmpStep::EndStep() { return scaler_.Update(); }

Status AmpStep::RestoreScalerState(const LossScalerState& state) {
  if (state.enabled != scaler_.enabled()) {
    return InvalidArgument(
        std::string("loss scaler state is ") +
        (state.enabled ? "enabled" : "disabled") + ", but this run " +
        (scaler_.enabled() ? "scales the loss (amp.dtype fp16)"
                           : "does not scale the loss (amp.dtype off or "
                             "bf16)"));
  }
  DSTRAIN_ASSIGN_OR_RETURN(LossScaler scaler,
                           LossScaler::FromState(state, device_));
  scaler_ = std::move(scaler);
  return Status::Ok();
}

}  // namespace dstrain::amp
