#pragma once
// Lays a module's parameters and gradients out in two flat fp32 buffers so
// that a step needs one all-reduce, one norm and one optimizer update over
// big contiguous tensors instead of one per parameter.
//
// - params(): every parameter's storage, weights with ≥ 2 dimensions first
//   (the ones that get weight decay: matrices and embeddings), then the rest
//   (biases, norm gains). Each module parameter becomes a view into it.
// - grads_and_loss(): the gradients in the same layout, plus one trailing
//   slot the trainer fills with its loss so the loss rides the gradient
//   all-reduce. Each parameter's .grad() is a view into it; autograd
//   accumulates into a defined gradient in place, so backward writes
//   straight into the buffer (EnsureGradViews repairs any that autograd
//   replaced).
// - decay_group()/no_decay_group(): detached leaf views of the two halves
//   with their gradient views attached, for torch::optim param groups.
//
// The module must outlive this object; not thread-safe.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dstrain::engine {

class FlatParameters {
 public:
  explicit FlatParameters(torch::nn::Module& module);

  torch::Tensor params() const { return params_; }
  torch::Tensor grads_and_loss() const { return grads_and_loss_; }
  torch::Tensor grads() const { return grads_; }
  float* loss_slot() const {
    return grads_and_loss_.data_ptr<float>() + numel_;
  }

  torch::Tensor decay_group() const { return decay_; }
  torch::Tensor no_decay_group() const { return no_decay_; }

  std::int64_t numel() const { return numel_; }
  std::int64_t decay_numel() const { return decay_numel_; }

  // Points every parameter's gradient back into the flat buffer, copying
  // (adding) any gradient autograd stored elsewhere. Returns how many had
  // to be repaired (0 in the normal case).
  int EnsureGradViews();

  // FNV-1a 64 of every parameter's bytes in registration order.
  std::string Digest() const;

 private:
  struct Slot {
    torch::Tensor param;  // the module's parameter (a view into params_)
    torch::Tensor grad;   // its view into grads_
  };
  std::vector<Slot> slots_;  // registration order
  std::int64_t numel_ = 0;
  std::int64_t decay_numel_ = 0;
  torch::Tensor params_;
  torch::Tensor grads_and_loss_;
  torch::Tensor grads_;
  torch::Tensor decay_;
  torch::Tensor no_decay_;
};

}  // namespace dstrain::engine
