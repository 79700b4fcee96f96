#pragma once
// One segment of a model's forward (a transformer block, the embeddings,
// the head) run as its own autograd graph, with hooks around its backward.
// It is how the ZeRO engine gathers a unit's parameters right before the
// unit's backward and reduces its gradient right after (no reliance on the
// order in which autograd happens to run hooks), and how activation
// checkpointing recomputes a block.
//
//   y = RunSegment(fn, x, options, hooks)
//
// returns fn(x), connected to x's autograd graph through one node,
// SegmentBackward. When autograd reaches that node it calls
// hooks.before_backward, back-propagates the incoming gradient through fn
// (a nested, re-entrant backward, as torch.utils.checkpoint with
// use_reentrant=True does), calls hooks.after_backward — by then every
// parameter fn used has its gradient accumulated — and hands x its gradient.
//
// - options.recompute false: fn runs now with grad enabled on a detached
//   copy of x and its graph (activations included) is kept until backward.
// - options.recompute true (activation checkpointing): fn runs now without
//   a graph and only x is kept; in backward, after before_backward, fn runs
//   again with grad enabled on the saved x, with the random generators
//   (options.preserve_rng) and autocast state it saw in forward, and the
//   backward goes through that fresh graph. The recomputed activations live
//   only during this segment's backward.
//
// x may be undefined or not require grad (the embeddings' segment, whose
// input is token ids it captures itself); `anchor` (a leaf that requires
// grad, e.g. an empty tensor) then carries the graph edge so the output
// still requires grad. When grad mode is off, RunSegment is just fn(x).
//
// fn returns one floating-point tensor. Everything runs on the calling
// thread (and, for backward, on the thread that runs autograd: the caller's
// for CPU tensors). Exceptions from fn or the hooks propagate out of
// forward, or out of the backward() call that reached the segment.

#include <ATen/core/Tensor.h>

#include <functional>

namespace dstrain::recompute {

using SegmentFn = std::function<at::Tensor(const at::Tensor&)>;

struct SegmentHooks {
  std::function<void()> before_backward;  // may be empty
  std::function<void()> after_backward;   // may be empty
};

struct SegmentOptions {
  bool recompute = false;
  // Recompute with the generator states of the forward (needed for
  // dropout); costs a copy of the generators' states per segment.
  bool preserve_rng = true;
  bool cuda_rng = false;  // also the current CUDA device's generator
};

at::Tensor RunSegment(const SegmentFn& fn, const at::Tensor& input,
                      const SegmentOptions& options, SegmentHooks hooks,
                      const at::Tensor& anchor);

}  // namespace dstrain::recompute
