#include "worker/engine/flat_parameters.h"

#include "worker/engine/fnv1a.h"

namespace dstrain::engine {

FlatParameters::FlatParameters(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> all = module.parameters(/*recurse=*/true);
  // Offsets: decayed weights first, then the rest, each in registration
  // order.
  std::vector<std::int64_t> offset(all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    TORCH_CHECK(all[i].scalar_type() == torch::kFloat32,
                "flat parameters need fp32 parameters");
    if (all[i].dim() >= 2) {
      offset[i] = decay_numel_;
      decay_numel_ += all[i].numel();
    }
  }
  numel_ = decay_numel_;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].dim() < 2) {
      offset[i] = numel_;
      numel_ += all[i].numel();
    }
  }

  const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  params_ = torch::empty({numel_}, opts);
  grads_and_loss_ = torch::zeros({numel_ + 1}, opts);
  grads_ = grads_and_loss_.narrow(0, 0, numel_);
  for (std::size_t i = 0; i < all.size(); ++i) {
    torch::Tensor& p = all[i];
    torch::Tensor pv = params_.narrow(0, offset[i], p.numel()).view(p.sizes());
    pv.copy_(p);
    p.set_data(pv);
    torch::Tensor gv = grads_.narrow(0, offset[i], p.numel()).view(p.sizes());
    p.mutable_grad() = gv;
    slots_.push_back({p, gv});
  }

  decay_ = params_.narrow(0, 0, decay_numel_).detach().requires_grad_(true);
  decay_.mutable_grad() = grads_.narrow(0, 0, decay_numel_);
  no_decay_ = params_.narrow(0, decay_numel_, numel_ - decay_numel_)
                  .detach()
                  .requires_grad_(true);
  no_decay_.mutable_grad() =
      grads_.narrow(0, decay_numel_, numel_ - decay_numel_);
}

int FlatParameters::EnsureGradViews() {
  int repaired = 0;
  torch::NoGradGuard no_grad;
  for (Slot& s : slots_) {
    torch::Tensor& g = s.param.mutable_grad();
    if (g.defined() && g.data_ptr() == s.grad.data_ptr()) continue;
    // The buffer slice was zeroed with the rest at the start of the step
    // and nothing accumulated into it: the foreign gradient is the total.
    if (g.defined()) s.grad.copy_(g);
    g = s.grad;
    ++repaired;
  }
  return repaired;
}

std::string FlatParameters::Digest() const {
  Fnv1a64 h;
  for (const Slot& s : slots_) {
    const torch::Tensor c = s.param.detach().contiguous();
    h.Update(c.data_ptr(), c.numel() * c.element_size());
  }
  return h.Hex();
}

}  // namespace dstrain::engine
