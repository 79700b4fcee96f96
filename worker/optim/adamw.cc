#include "worker/optim/adamw.h"

namespace dstrain::optim {

std::unique_ptr<torch::optim::AdamW> MakeAdamW(
    const engine::FlatParameters& flat, const config::OptimizerConfig& cfg) {
  auto base = torch::optim::AdamWOptions(cfg.lr)
                  .betas({cfg.beta1, cfg.beta2})
                  .eps(cfg.eps)
                  .weight_decay(cfg.weight_decay);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (flat.decay_numel() > 0) {
    groups.emplace_back(std::vector<torch::Tensor>{flat.decay_group()},
                        std::make_unique<torch::optim::AdamWOptions>(base));
  }
  if (flat.numel() > flat.decay_numel()) {
    auto no_decay = base;
    no_decay.weight_decay(0.0);
    groups.emplace_back(std::vector<torch::Tensor>{flat.no_decay_group()},
                        std::make_unique<torch::optim::AdamWOptions>(no_decay));
  }
  return std::make_unique<torch::optim::AdamW>(groups, base);
}

void SetLearningRate(torch::optim::Optimizer& opt, double lr) {
  for (auto& group : opt.param_groups()) group.options().set_lr(lr);
}

double ClipGradNorm(torch::Tensor& grads, double max_norm) {
  torch::NoGradGuard no_grad;
  const double norm = grads.norm().item<double>();
  if (max_norm > 0) {
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) grads.mul_(coef);
  }
  return norm;
}

}  // namespace dstrain::optim
