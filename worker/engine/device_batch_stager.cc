#include "worker/engine/device_batch_stager.h"

#include <ATen/ATen.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

namespace dstrain::engine {

DeviceBatchStager::DeviceBatchStager(c10::Device device)
    : device_(device),
      side_(c10::impl::VirtualGuardImpl(device.type())
                .getStreamFromGlobalPool(device, /*isHighPriority=*/false)),
      copied_{c10::Event(device.type()), c10::Event(device.type())} {}

void DeviceBatchStager::Stage(const at::Tensor& host) {
  const int slot = next_;
  next_ ^= 1;
  // The DMA out of this buffer two batches ago must be over before it is
  // written (returns at once if it never was recorded).
  copied_[slot].synchronize();
  at::Tensor& pinned = pinned_[slot];
  if (!pinned.defined() || pinned.sizes() != host.sizes() ||
      pinned.scalar_type() != host.scalar_type()) {
    pinned = at::empty(host.sizes(), host.options()).pin_memory();
  }
  pinned.copy_(host);
  {
    const c10::StreamGuard on_side(side_);
    staged_ = pinned.to(device_, /*non_blocking=*/true);
    copied_[slot].record(side_);
  }
  taken_ = slot;
}

at::Tensor DeviceBatchStager::Take() {
  const c10::Stream current =
      c10::impl::VirtualGuardImpl(device_.type()).getStream(device_);
  copied_[taken_].block(current);
  staged_.record_stream(current);
  at::Tensor out = std::move(staged_);
  staged_ = at::Tensor();
  return out;
}

}  // namespace dstrain::engine
