#include "worker/recompute/saved_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>

#include <mutex>

namespace dstrain::recompute {
namespace {

at::Generator CudaGenerator() {
  // Index -1: the current device, as torch.cuda.get_rng_state() uses.
  return at::globalContext().defaultGenerator(c10::Device(c10::kCUDA));
}

at::Tensor GetState(at::Generator gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void SetState(at::Generator gen, const at::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

}  // namespace

RngState RngState::Capture(bool with_cuda) {
  RngState s;
  s.cpu = GetState(at::detail::getDefaultCPUGenerator());
  if (with_cuda) s.cuda = GetState(CudaGenerator());
  return s;
}

void RngState::Restore() const {
  SetState(at::detail::getDefaultCPUGenerator(), cpu);
  if (cuda.has_value()) SetState(CudaGenerator(), *cuda);
}

ForkedRng::ForkedRng(const RngState& saved)
    : outer_(RngState::Capture(saved.cuda.has_value())) {
  saved.Restore();
}

ForkedRng::~ForkedRng() { outer_.Restore(); }

AutocastState AutocastState::Capture() {
  AutocastState s;
  s.cpu_enabled = at::autocast::is_autocast_enabled(c10::kCPU);
  s.cpu_dtype = at::autocast::get_autocast_dtype(c10::kCPU);
  s.cuda_enabled = at::autocast::is_autocast_enabled(c10::kCUDA);
  s.cuda_dtype = at::autocast::get_autocast_dtype(c10::kCUDA);
  s.cache_enabled = at::autocast::is_autocast_cache_enabled();
  return s;
}

namespace {

void Apply(const AutocastState& s) {
  at::autocast::set_autocast_enabled(c10::kCPU, s.cpu_enabled);
  at::autocast::set_autocast_dtype(c10::kCPU, s.cpu_dtype);
  at::autocast::set_autocast_enabled(c10::kCUDA, s.cuda_enabled);
  at::autocast::set_autocast_dtype(c10::kCUDA, s.cuda_dtype);
}

}  // namespace

// torch.autocast.__enter__: remember, set enabled and dtype, count the
// nesting, set the cache flag.
AutocastScope::AutocastScope(const AutocastState& state)
    : previous_(AutocastState::Capture()) {
  Apply(state);
  at::autocast::increment_nesting();
  at::autocast::set_autocast_cache_enabled(state.cache_enabled);
}

// torch.autocast.__exit__: the outermost exit clears the cast cache, then
// everything goes back.
AutocastScope::~AutocastScope() {
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  Apply(previous_);
  at::autocast::set_autocast_cache_enabled(previous_.cache_enabled);
}

}  // namespace dstrain::recompute
