#pragma once
// Dynamic loss scaling with torch.amp.GradScaler's semantics
// (torch/amp/grad_scaler.py), for fp16 training, across a data-parallel
// group.
//
// One optimizer step, in this order (GradScaler's scale → backward →
// unscale_ → clip → step → update, plus the group agreement):
//
//   scaler.Scale(loss).backward();          // loss × scale, fp32
//   ...reduce gradients...                  // still scaled
//   scaler.Unscale(my_grads);               // × 1/scale, inf/NaN check
//   scaler.AgreeOnFoundInf(comm);           // all-reduce (max) of the flag
//     (or LocalFoundInf + AdoptGroupFoundInf around the engine's own
//      reduction of the flag)
//   ClipGradNorm(...);                      // on unscaled gradients
//   if (!scaler.ShouldSkipStep()) optimizer.step();
//   scaler.Update();                        // grow, back off, or keep
//
// Unscale works on whatever gradients this rank owns (its ZeRO shards, or
// the whole reduced buffer): at::_amp_foreach_non_finite_check_and_unscale_
// multiplies them by 1/scale (the reciprocal taken in float64 and rounded to
// float32, as GradScaler does) and raises this step's found_inf flag when
// any element is inf or NaN. It may be called several times per step on
// different tensors (each tensor once). AgreeOnFoundInf all-reduces the flag
// with kMax as a float32 tensor (Gloo cannot reduce bool), so a rank whose
// shard overflowed makes every rank skip.
//
// Update is at::_amp_update_scale_: on inf/NaN the scale is multiplied by
// backoff_factor and the growth tracker reset; otherwise the tracker counts
// the clean step and, on reaching growth_interval, the scale is multiplied by
// growth_factor (only if the product is finite) and the tracker reset.
// Defaults: init scale 2^16, growth 2.0, backoff 0.5, interval 2000.
//
// A disabled scaler (bf16 or no AMP) has scale 1: Scale returns the loss
// itself, Unscale and AgreeOnFoundInf do nothing, it never skips, Update
// changes nothing.
//
// The scale, tracker and flag live as tensors on the scaler's device (the
// gradients' device), so Scale/Unscale/Update never wait for the device;
// ShouldSkipStep, scale() and state() read a value back (one sync each on
// CUDA, as GradScaler.step's .item()).
//
// Not thread-safe: one scaler per rank, used from the training thread.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

#include "common/status.h"
#include "worker/amp/loss_scaler_state.h"
#include "worker/comm/communicator.h"

namespace dstrain::amp {

// torch.amp.GradScaler's constructor arguments.
struct LossScalerOptions {
  double init_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  std::int64_t growth_interval = 2000;
};

class LossScaler {
 public:
  // A scaler that does nothing (scale 1, never skips).
  LossScaler();

  // An enabled scaler with `options` (checked as ValidateLossScalerState
  // checks a state; init_scale must be a float32 value) on `device`.
  static StatusOr<LossScaler> Create(const LossScalerOptions& options,
                                     c10::Device device = c10::kCPU);
  // A scaler continuing from `state` (e.g. from a checkpoint); a disabled
  // state gives a disabled scaler.
  static StatusOr<LossScaler> FromState(const LossScalerState& state,
                                        c10::Device device = c10::kCPU);

  bool enabled() const { return enabled_; }

  // loss × scale (GradScaler.scale); the loss itself when disabled.
  at::Tensor Scale(const at::Tensor& loss) const;

  // GradScaler.unscale_ on `grads` (on the scaler's device, floating,
  // dense; grouped by dtype; undefined ones are skipped, like GradScaler's
  // None gradients). float16 gradients are refused, as GradScaler refuses
  // them: unscale fp32 master gradients. The first call after Update (or
  // creation) starts a new step's flag. Nothing happens when disabled.
  Status Unscale(at::TensorList grads);

  // Collective over `comm` (every rank calls it, after its Unscale calls):
  // every rank ends with the maximum of the ranks' flags. Nothing happens
  // when disabled or for a group of one. Fails if Unscale was not called
  // this step.
  Status AgreeOnFoundInf(comm::Communicator& comm);

  // For an engine that folds the flag into a reduction of its own (one
  // all-reduce of loss, gradient norm and flag: zero::ZeroEngine::
  // ReduceStats): this rank's flag after its Unscale calls, and then the
  // group's verdict (true when any rank's flag was set), which replaces the
  // flag for ShouldSkipStep and Update exactly as AgreeOnFoundInf would.
  // Both fail (disabled: do nothing) without Unscale in this step.
  StatusOr<bool> LocalFoundInf() const;
  Status AdoptGroupFoundInf(bool any_rank_found_inf);

  // True when this step found inf/NaN (after AgreeOnFoundInf: on any rank),
  // so the optimizer step must be skipped. False when disabled.
  bool ShouldSkipStep() const;

  // Ends the step: at::_amp_update_scale_ with this step's flag. Fails if
  // Unscale was not called since the last Update (GradScaler: "No inf checks
  // were recorded prior to update").
  Status Update();

  // The current scale (1 when disabled) and growth tracker.
  double scale() const;
  std::int64_t growth_tracker() const;

  // Everything needed to continue later; FromState(state()) round-trips.
  LossScalerState state() const;

 private:
  LossScaler(const LossScalerState& state, c10::Device device);

  bool enabled_ = false;
  double growth_factor_ = 2.0;
  double backoff_factor_ = 0.5;
  std::int64_t growth_interval_ = 2000;
  c10::Device device_ = c10::kCPU;
  at::Tensor scale_;           // float32, 0-dim
  at::Tensor growth_tracker_;  // int32, 0-dim
  at::Tensor found_inf_;       // float32, 0-dim: this step's flag
  bool unscaled_ = false;      // Unscale called since the last Update
};

}  // namespace dstrain::amp
