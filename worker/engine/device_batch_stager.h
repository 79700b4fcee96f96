#pragma once
// Micro-batches to a GPU on a side stream, so the copy of the next batch
// overlaps the computation of this one (what `pin_memory=True` and a
// prefetching side stream do in a PyTorch input pipeline).
//
// Stage(host) copies the batch into one of two pinned host buffers (after
// that buffer's previous copy to the device has finished) and starts its
// copy to the device on a side stream, allocated there, and returns: the
// host tensor may be reused at once. Take() orders the current stream
// after that copy (an event, no host wait) and tells the caching
// allocator the device tensor is used on the current stream
// (Tensor::record_stream), so its memory is not handed out again before
// the current stream is done with it.
//
// Only for CUDA devices; one thread; Stage and Take alternate (one batch
// in flight). Device-generic c10 stream and event calls, no CUDA headers.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/Event.h>
#include <c10/core/Stream.h>

#include <array>

namespace dstrain::engine {

class DeviceBatchStager {
 public:
  explicit DeviceBatchStager(c10::Device device);

  void Stage(const at::Tensor& host);
  bool staged() const { return staged_.defined(); }
  // The staged batch on the device; call after Stage.
  at::Tensor Take();

 private:
  c10::Device device_;
  c10::Stream side_;
  std::array<at::Tensor, 2> pinned_;
  std::array<c10::Event, 2> copied_;
  int next_ = 0;   // the pinned buffer the next Stage fills
  int taken_ = 0;  // the buffer of the staged batch
  at::Tensor staged_;
};

}  // namespace dstrain::engine
