// The side-stream copy of micro-batches on a GPU: what Take() returns is
// the batch Stage() was given, in order, while the current stream is busy
// and the host buffer is overwritten at once; skips without a GPU.
#include "worker/engine/device_batch_stager.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dstrain::engine {
namespace {

TEST(DeviceBatchStagerTest, TakesWhatWasStagedWhileTheDeviceIsBusy) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device gpu(c10::kCUDA, 0);
  DeviceBatchStager stager(gpu);
  at::Tensor host = at::empty({8, 1025}, at::kLong);
  at::Tensor busy = at::rand({2048, 2048}, at::TensorOptions().device(gpu));
  for (int i = 0; i < 6; ++i) {
    host.copy_(at::arange(8 * 1025, at::kLong).view({8, 1025}) * (i + 1));
    stager.Stage(host);
    host.fill_(-1);               // the caller reuses its buffer at once
    busy = busy.mm(busy).tanh();  // the current stream has work queued
    const at::Tensor got = stager.Take();
    ASSERT_EQ(got.device(), gpu);
    EXPECT_TRUE(at::equal(
        got.cpu(), at::arange(8 * 1025, at::kLong).view({8, 1025}) * (i + 1)))
        << i;
  }
}

}  // namespace
}  // namespace dstrain::engine
