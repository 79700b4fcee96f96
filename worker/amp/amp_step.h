#pragma once
// Mixed precision inside one training step (`amp.dtype`): what
// the trainer (engine/trainer.cc) does around the ZeRO engine's step protocol
// (zero/zero_engine.h), in PyTorch's recipe order:
//
//   AmpStep amp = AmpStep::Create(job.amp.dtype, device);
//   zero_options.param_dtype = amp.param_dtype();   // compute dtype
//   for each step:
//     for each micro-batch:
//       at::Tensor loss;
//       { auto scope = amp.Autocast(); loss = forward(...); }  // left
//       amp.ScaleLoss(loss / accum).backward();        // before backward
//       engine.FinishMicroBatch(last);
//     bool local_inf = amp.UnscaleAndCheck(engine.grads());   // fp32
//     stats = engine.ReduceStats(loss, local_inf);     // flag all-reduced
//     bool skip = amp.Agree(stats.found_inf);
//     if (!skip) { clip; engine.Step(lr); }
//     amp.EndStep();                                   // grow/back off
//
// off: no autocast, fp32 compute, no scaler. bf16: autocast to bfloat16,
// units gathered in bf16, no scaler (bf16 has fp32's range, as PyTorch's
// recipe). fp16: autocast to float16, units gathered in fp16, the dynamic
// loss scaler (loss_scaler.h: torch.amp.GradScaler's semantics). Without
// the scaler UnscaleAndCheck reports no inf and Agree never skips, as a
// PyTorch step without GradScaler never skips.
//
// The scaler state (for checkpoints): scaler_state() reads it,
// RestoreScalerState() continues from a saved one (call it between steps,
// before the next step's UnscaleAndCheck).
//
// Not thread-safe: one per rank, used on the training thread (autocast is
// thread-local).

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <optional>
#include <utility>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/amp/amp_policy.h"
#include "worker/amp/loss_scaler.h"
#include "worker/amp/loss_scaler_state.h"

namespace dstrain::amp {

class AmpStep {
 public:
  // INVALID_ARGUMENT / FAILED_PRECONDITION (from MakeAmpPolicy) when the
  // mode cannot run on `device` here.
  static StatusOr<AmpStep> Create(config::AmpDtype dtype, c10::Device device);

  const AmpPolicy& policy() const { return policy_; }
  // The dtype ZeRO gathers units in and computes with (kFloat when off);
  // master weights, reduced gradients and AdamW state stay fp32.
  at::ScalarType param_dtype() const { return policy_.compute_dtype; }
  bool scales_loss() const { return scaler_.enabled(); }

  // The forward's autocast region: hold the returned scope while the
  // forward runs and destroy it before backward.
  AutocastScope Autocast() const { return AutocastScope(policy_); }

  // loss × scale (fp16); the loss itself otherwise.
  at::Tensor ScaleLoss(const at::Tensor& loss) const {
    return scaler_.Scale(loss);
  }

  // After the step's gradients are reduced: unscales `grads` (this rank's
  // fp32 gradient, in place) and returns this rank's inf/NaN flag, for
  // ReduceStats. False without a scaler.
  StatusOr<bool> UnscaleAndCheck(const at::Tensor& grads);

  // The group's verdict (ReduceStats' found_inf): true when the optimizer
  // step must be skipped on every rank. False without a scaler.
  StatusOr<bool> Agree(bool any_rank_found_inf);

  // Ends the step: the scaler backs off (skipped) or counts towards growth.
  Status EndStep();

  // The scale the step's loss was multiplied by (1 without a scaler); after
  // EndStep, the next step's.
  double scale() const { return scaler_.scale(); }

  LossScalerState scaler_state() const { return scaler_.state(); }
  // INVALID_ARGUMENT when `state` fails ValidateLossScalerState or does not
  // match this mode (an enabled state for bf16/off, or a disabled one for
  // fp16): a checkpoint from another amp.dtype.
  Status RestoreScalerState(const LossScalerState& state);

 private:
  AmpStep(const AmpPolicy& policy, LossScaler scaler, c10::Device device)
      : policy_(policy), scaler_(std::move(scaler)), device_(device) {}

  AmpPolicy policy_;
  LossScaler scaler_;
  c10::Device device_;
};

}  // namespace dstrain::amp
