#pragma once
// What the job's `amp.dtype` means for the training step on a device:
//
//   off   no autocast, no loss scaling: everything fp32
//   bf16  autocast to bfloat16; no loss scaler (bf16 has fp32's range)
//   fp16  autocast to float16 and the dynamic loss scaler with
//         torch.amp.GradScaler's defaults (loss_scaler.h)
//
// In every mode the master weights, the gradients the optimizer sees and the
// loss stay fp32; autocast chooses per op (matmuls, linear layers and
// attention in the low dtype; reductions such as the loss in fp32).
//
// AutocastScope is the one line the training step writes around a forward
// pass: an AutocastGuard when the policy autocasts, nothing otherwise.

#include <c10/core/Device.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <optional>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/amp/autocast_guard.h"
#include "worker/amp/loss_scaler.h"

namespace dstrain::amp {

struct AmpPolicy {
  c10::DeviceType device = c10::DeviceType::CPU;
  bool autocast = false;
  // The dtype autocast computes in (kFloat when off): also the dtype a
  // ZeRO-3 unit's parameters may be gathered in.
  at::ScalarType compute_dtype = at::kFloat;
  bool loss_scaling = false;  // fp16 only
};

// Checks that the mode can run on `device` here (CheckAutocast).
StatusOr<AmpPolicy> MakeAmpPolicy(config::AmpDtype dtype,
                                  c10::DeviceType device);

// The policy's scaler: GradScaler's defaults on `device` when the policy
// scales the loss, a disabled scaler otherwise.
StatusOr<LossScaler> MakeLossScaler(const AmpPolicy& policy,
                                    c10::Device device);

class AutocastScope {
 public:
  explicit AutocastScope(const AmpPolicy& policy) {
    if (policy.autocast) guard_.emplace(policy.device, policy.compute_dtype);
  }

 private:
  std::optional<AutocastGuard> guard_;
};

}  // namespace dstrain::amp
