#include "worker/amp/autocast_guard.h"

#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <string>

namespace dstrain::amp {
namespace {

std::string DeviceName(c10::DeviceType device) {
  return c10::DeviceTypeName(device, /*lower_case=*/true);
}

std::string DtypeName(at::ScalarType dtype) { return c10::toString(dtype); }

}  // namespace

AutocastState CurrentAutocastState(c10::DeviceType device) {
  AutocastState s;
  s.enabled = at::autocast::is_autocast_enabled(device);
  s.dtype = at::autocast::get_autocast_dtype(device);
  s.cache_enabled = at::autocast::is_autocast_cache_enabled();
  return s;
}

Status CheckAutocast(c10::DeviceType device, at::ScalarType dtype) {
  if (device != c10::DeviceType::CPU && device != c10::DeviceType::CUDA) {
    return InvalidArgument("autocast on " + DeviceName(device) +
                           " is not supported (cpu, cuda)");
  }
  if (dtype != at::kBFloat16 && dtype != at::kHalf) {
    return InvalidArgument("autocast to " + DtypeName(dtype) + " on " +
                           DeviceName(device) +
                           " is not supported (BFloat16, Half)");
  }
  // torch.autocast also refuses bf16 on a CUDA device without it; with
  // emulation (PyTorch's default) every device libtorch runs on has it.
  if (device == c10::DeviceType::CUDA && !torch::cuda::is_available()) {
    return FailedPrecondition("autocast on cuda: no CUDA device is usable");
  }
  return Status::Ok();
}

AutocastGuard::AutocastGuard(c10::DeviceType device, at::ScalarType dtype,
                             bool enabled, std::optional<bool> cache_enabled)
    : device_(device) {
  if (enabled) {
    const Status ok = CheckAutocast(device, dtype);
    TORCH_CHECK(ok.ok(), ok.message());
  } else {
    TORCH_CHECK(at::autocast::is_autocast_available(device), "autocast on ",
                DeviceName(device), " is not supported");
  }
  const bool cache =
      cache_enabled.value_or(at::autocast::is_autocast_cache_enabled());
  // __enter__, in its order.
  prev_cache_enabled_ = at::autocast::is_autocast_cache_enabled();
  prev_enabled_ = at::autocast::is_autocast_enabled(device_);
  prev_dtype_ = at::autocast::get_autocast_dtype(device_);
  at::autocast::set_autocast_enabled(device_, enabled);
  at::autocast::set_autocast_dtype(device_, dtype);
  at::autocast::increment_nesting();
  at::autocast::set_autocast_cache_enabled(cache);
}

AutocastGuard::AutocastGuard(c10::DeviceType device, const AutocastState& state)
    : AutocastGuard(device, state.dtype, state.enabled, state.cache_enabled) {}

AutocastGuard::~AutocastGuard() {
  // __exit__: the cast cache goes when the outermost region closes.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_, prev_enabled_);
  at::autocast::set_autocast_dtype(device_, prev_dtype_);
  at::autocast::set_autocast_cache_enabled(prev_cache_enabled_);
}

}  // namespace dstrain::amp
