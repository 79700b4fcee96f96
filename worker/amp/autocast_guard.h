#pragma once
// Autocast for one device type, entered and left exactly as PyTorch's
// `torch.autocast(device_type, dtype, enabled, cache_enabled)` context
// manager does (torch/amp/autocast_mode.py), through at::autocast:
//
//   enter  remember is_autocast_cache_enabled(), is_autocast_enabled(dev),
//          get_autocast_dtype(dev); set_autocast_enabled(dev, enabled);
//          set_autocast_dtype(dev, dtype); increment_nesting();
//          set_autocast_cache_enabled(cache_enabled)
//   exit   if decrement_nesting() == 0: clear_cache(); then restore the
//          enabled flag, the dtype and the cache flag remembered at enter.
//
// So guards nest like `with` blocks, an inner guard with enabled = false
// turns autocast off inside an outer one, and the cast cache (fp32 weights
// cast once per region) lives until the outermost guard exits.
//
// Autocast state is thread-local in libtorch: a guard affects only the
// thread that made it and must be destroyed on that thread, in LIFO order
// with other guards (it is neither copyable nor movable).
//
// The constructor checks what torch.autocast's constructor checks, but
// throws instead of warning and turning itself off: an unsupported device
// type or dtype (CPU and CUDA take bfloat16 and float16), or CUDA asked for
// when no CUDA device is usable. CheckAutocast gives the same verdict as a
// Status for code that validates a job before it starts.

#include <ATen/core/Tensor.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <optional>

#include "common/status.h"

namespace dstrain::amp {

// Autocast's settings on this thread for one device type, as
// torch.utils.checkpoint captures them to replay a region's forward (E.g.
// activation recompute in backward): a guard built from a captured state
// re-enters exactly that state.
struct AutocastState {
  bool enabled = false;
  at::ScalarType dtype = at::kBFloat16;
  bool cache_enabled = true;
};

// The calling thread's autocast state for `device`.
AutocastState CurrentAutocastState(c10::DeviceType device);

// OK when autocast to `dtype` on `device` can run here; otherwise
// INVALID_ARGUMENT (dtype or device type unsupported) or FAILED_PRECONDITION
// (CUDA not usable) naming them.
Status CheckAutocast(c10::DeviceType device, at::ScalarType dtype);

class AutocastGuard {
 public:
  // torch.autocast(device, dtype, enabled, cache_enabled); an unset
  // cache_enabled keeps the current is_autocast_cache_enabled() (PyTorch's
  // default). With enabled = false the dtype is not checked.
  AutocastGuard(c10::DeviceType device, at::ScalarType dtype,
                bool enabled = true,
                std::optional<bool> cache_enabled = std::nullopt);
  // Re-enters a captured state (CurrentAutocastState).
  AutocastGuard(c10::DeviceType device, const AutocastState& state);
  ~AutocastGuard();

  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_;
  bool prev_cache_enabled_;
  bool prev_enabled_;
  at::ScalarType prev_dtype_;
};

}  // namespace dstrain::amp
