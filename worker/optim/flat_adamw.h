#pragma once
// AdamW on one flat fp32 tensor: a rank's arena of master weights (all of
// the model in ZeRO stage 0, its owned slices in stages 1-3; see
// worker/zero/shard_layout.h). Element for element it computes what
// torch::optim::AdamW computes (same operations in the same order, so the
// results are bitwise equal):
//
//   p ← p · (1 − lr·wd)                      only inside the decay ranges
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
//
// Weight decay is decoupled and applies only where `decay` says (the ≥ 2-D
// weights); everything else in the update is element-wise, so it runs over
// the whole arena at once. The moments are zero-initialised fp32 tensors of
// the arena's size, exposed for checkpoints (worker/checkpoint) to save and
// restore together with step_count(). Not thread-safe.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "common/config/job_config.h"
#include "common/index_range.h"

namespace dstrain::optim {

class FlatAdamW {
 public:
  // `params`: a contiguous 1-D fp32 tensor, updated in place by Step.
  FlatAdamW(at::Tensor params, std::vector<IndexRange> decay,
            const config::OptimizerConfig& cfg);

  // One step with gradients `grads` (same shape as params) at rate `lr`.
  void Step(const at::Tensor& grads, double lr);

  std::int64_t step_count() const { return step_; }
  void set_step_count(std::int64_t step) { step_ = step; }
  const at::Tensor& exp_avg() const { return exp_avg_; }
  const at::Tensor& exp_avg_sq() const { return exp_avg_sq_; }
  const std::vector<IndexRange>& decay() const { return decay_; }
  // Bytes of optimizer state (the two moments).
  std::int64_t state_bytes() const;

 private:
  at::Tensor params_;
  std::vector<IndexRange> decay_;
  config::OptimizerConfig cfg_;
  at::Tensor exp_avg_;
  at::Tensor exp_avg_sq_;
  std::int64_t step_ = 0;
};

}  // namespace dstrain::optim
