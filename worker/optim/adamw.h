#pragma once
// AdamW over the flat parameter buffers (engine/flat_parameters.h): two
// torch::optim param groups, the ≥ 2-D weights (matrices and embeddings)
// with `weight_decay`, the rest (biases, norm gains) without, as GPT
// training recipes do. Each group is one big tensor, so a step is a handful
// of vectorised ops.

#include <torch/torch.h>

#include <memory>

#include "common/config/job_config.h"
#include "worker/engine/flat_parameters.h"

namespace dstrain::optim {

std::unique_ptr<torch::optim::AdamW> MakeAdamW(
    const engine::FlatParameters& flat, const config::OptimizerConfig& cfg);

// Sets the learning rate of every param group.
void SetLearningRate(torch::optim::Optimizer& opt, double lr);

// Scales `grads` in place so their global L2 norm is at most `max_norm`
// (no-op when max_norm <= 0), like torch.nn.utils.clip_grad_norm_; returns
// the norm before clipping.
double ClipGradNorm(torch::Tensor& grads, double max_norm);

}  // namespace dstrain::optim
