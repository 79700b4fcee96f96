#include "worker/recompute/segment.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

#include <optional>

#include "worker/recompute/saved_state.h"

namespace dstrain::recompute {
namespace {

using torch::autograd::variable_list;

class SegmentBackward : public torch::autograd::Node {
 public:
  std::string name() const override { return "dstrain::SegmentBackward"; }

  variable_list apply(variable_list&& grads) override {
    TORCH_CHECK(fn, "backward through a dstrain segment ran twice");
    if (hooks.before_backward) hooks.before_backward();
    at::Tensor x;
    at::Tensor y;
    if (options.recompute) {
      std::optional<ForkedRng> rng_scope;
      if (options.preserve_rng) rng_scope.emplace(rng);
      AutocastScope autocast_scope(autocast);
      at::AutoGradMode grad_on(true);
      x = saved_input.defined()
              ? saved_input.detach().requires_grad_(input_requires_grad)
              : saved_input;
      y = fn(x);
    } else {
      x = std::move(inner_input);
      y = std::move(inner_output);
    }
    if (y.requires_grad()) {
      at::Tensor grad = grads.empty() ? at::Tensor() : grads[0];
      if (!grad.defined()) grad = at::zeros_like(y);
      torch::autograd::backward({y}, {grad}, /*retain_graph=*/false,
                                /*create_graph=*/false);
    }
    at::Tensor grad_input =
        input_requires_grad && x.defined() ? x.grad() : at::Tensor();
    y.reset();
    x.reset();
    release_variables();
    if (hooks.after_backward) hooks.after_backward();
    fn = nullptr;
    hooks = {};
    return {grad_input};
  }

  void release_variables() override {
    inner_input.reset();
    inner_output.reset();
    saved_input.reset();
  }

  SegmentFn fn;
  SegmentHooks hooks;
  SegmentOptions options;
  bool input_requires_grad = false;
  // recompute == false: the segment's own graph, kept until backward.
  at::Tensor inner_input;
  at::Tensor inner_output;
  // recompute == true: what the recomputation needs.
  at::Tensor saved_input;
  RngState rng;
  AutocastState autocast;
};

}  // namespace

at::Tensor RunSegment(const SegmentFn& fn, const at::Tensor& input,
                      const SegmentOptions& options, SegmentHooks hooks,
                      const at::Tensor& anchor) {
  if (!at::GradMode::is_enabled()) return fn(input);
  const bool input_requires_grad = input.defined() && input.requires_grad();
  TORCH_CHECK(input_requires_grad || (anchor.defined() && anchor.is_leaf() &&
                                      anchor.requires_grad()),
              "a segment whose input does not require grad needs an anchor "
              "leaf that does");

  std::shared_ptr<SegmentBackward> node(new SegmentBackward(),
                                        torch::autograd::deleteNode);
  node->fn = fn;
  node->hooks = std::move(hooks);
  node->options = options;
  node->input_requires_grad = input_requires_grad;

  at::Tensor y;
  if (options.recompute) {
    if (options.preserve_rng) node->rng = RngState::Capture(options.cuda_rng);
    node->autocast = AutocastState::Capture();
    {
      at::NoGradGuard no_grad;
      y = fn(input);
      node->saved_input = input.defined() ? input.detach() : input;
    }
  } else {
    at::Tensor x;
    {
      at::NoGradGuard no_grad;
      x = input.defined() ? input.detach() : input;
    }
    if (x.defined()) x.requires_grad_(input_requires_grad);
    y = fn(x);
    node->inner_input = x;
    node->inner_output = y;
  }
  TORCH_CHECK(y.defined() && at::isFloatingType(y.scalar_type()),
              "a segment must return a floating-point tensor");

  node->set_next_edges(torch::autograd::collect_next_edges(
      input_requires_grad ? input : anchor));
  at::Tensor out;
  {
    at::NoGradGuard no_grad;
    out = y.detach();
  }
  torch::autograd::set_history(out, node);
  return out;
}

}  // namespace dstrain::recompute
