#include "worker/optim/flat_adamw.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>

namespace dstrain::optim {

FlatAdamW::FlatAdamW(at::Tensor params, std::vector<IndexRange> decay,
                     const config::OptimizerConfig& cfg)
    : params_(std::move(params)), decay_(std::move(decay)), cfg_(cfg) {
  TORCH_CHECK(params_.dim() == 1 && params_.is_contiguous() &&
                  params_.scalar_type() == at::kFloat,
              "FlatAdamW needs a contiguous 1-D fp32 tensor");
  for (const IndexRange& r : decay_) {
    TORCH_CHECK(r.begin >= 0 && r.end <= params_.numel() && r.begin <= r.end,
                "decay range [", r.begin, ", ", r.end, ") outside ",
                params_.numel(), " elements");
  }
  exp_avg_ = at::zeros_like(params_);
  exp_avg_sq_ = at::zeros_like(params_);
}

void FlatAdamW::Step(const at::Tensor& grads, double lr) {
  at::NoGradGuard no_grad;
  TORCH_CHECK(grads.sizes() == params_.sizes(),
              "FlatAdamW: gradient and parameter sizes differ");
  if (cfg_.weight_decay != 0) {
    const double keep = 1 - lr * cfg_.weight_decay;
    for (const IndexRange& r : decay_) {
      params_.narrow(0, r.begin, r.size()).mul_(keep);
    }
  }
  ++step_;
  const double beta1 = cfg_.beta1;
  const double beta2 = cfg_.beta2;
  const double bias_correction1 = 1 - std::pow(beta1, step_);
  const double bias_correction2 = 1 - std::pow(beta2, step_);
  exp_avg_.mul_(beta1).add_(grads, 1 - beta1);
  exp_avg_sq_.mul_(beta2).addcmul_(grads, grads, 1 - beta2);
  const at::Tensor denom =
      (exp_avg_sq_.sqrt() / std::sqrt(bias_correction2)).add_(cfg_.eps);
  const double step_size = lr / bias_correction1;
  params_.addcdiv_(exp_avg_, denom, -step_size);
}

std::int64_t FlatAdamW::state_bytes() const {
  return (exp_avg_.numel() + exp_avg_sq_.numel()) *
         static_cast<std::int64_t>(sizeof(float));
}

}  // namespace dstrain::optim
