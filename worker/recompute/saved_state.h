#pragma once
// The thread and process state a recomputed forward must see again to
// reproduce the original bit for bit (activation checkpointing):
// the default random generators (CPU, and CUDA when asked: dropout masks)
// and the autocast state (which ops run in which dtype).
//
// RngState::Capture / ForkedRng mirror torch.utils.checkpoint's
// preserve_rng_state: the recompute runs on the saved generator states and
// the generators are put back afterwards, so the caller's random stream
// continues as if nothing had been recomputed. AutocastScope enters and
// leaves a captured autocast state exactly as torch.autocast's __enter__
// and __exit__ do.
//
// The default generators are process-wide: two threads recomputing with
// dropout at once would interleave their draws (ranks run as processes in
// production; tests with dropout run one rank per process).

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <optional>

namespace dstrain::recompute {

struct RngState {
  at::Tensor cpu;
  std::optional<at::Tensor> cuda;  // current CUDA device's generator

  static RngState Capture(bool with_cuda);
  void Restore() const;
};

// Restores `saved` for the scope; puts back the generators' states as they
// were at construction when it ends.
class ForkedRng {
 public:
  explicit ForkedRng(const RngState& saved);
  ~ForkedRng();
  ForkedRng(const ForkedRng&) = delete;
  ForkedRng& operator=(const ForkedRng&) = delete;

 private:
  RngState outer_;
};

struct AutocastState {
  bool cpu_enabled = false;
  at::ScalarType cpu_dtype = at::kBFloat16;
  bool cuda_enabled = false;
  at::ScalarType cuda_dtype = at::kHalf;
  bool cache_enabled = true;

  static AutocastState Capture();
};

// torch.autocast(...) for the CPU and CUDA device types at once, entered
// with `state` for the scope.
class AutocastScope {
 public:
  explicit AutocastScope(const AutocastState& state);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  AutocastState previous_;
};

}  // namespace dstrain::recompute
