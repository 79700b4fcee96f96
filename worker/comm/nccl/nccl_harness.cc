// The nccl harness of the contract suite: one thread per rank, rank r on
// CUDA device r (so a machine with one GPU runs world size 1), meeting
// through one in-memory store per run. Skips where there is no device.

#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <barrier>
#include <thread>
#include <vector>

#include "worker/comm/nccl/nccl_communicator.h"
#include "worker/comm/testing/comm_harness.h"
#include "common/rendezvous/in_memory_kv_store.h"

namespace dstrain::comm::testing {
namespace {

int DeviceCount() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

class ThreadSide : public RankSide {
 public:
  explicit ThreadSide(std::barrier<>& barrier) : barrier_(barrier) {}
  void OutOfBandBarrier() override { barrier_.arrive_and_wait(); }

 private:
  std::barrier<>& barrier_;
};

class NcclHarness : public CommHarness {
 public:
  std::string backend() const override { return "nccl"; }
  std::string SkipReason() const override {
    return DeviceCount() == 0
               ? "nccl needs a CUDA device; this machine has none"
               : "";
  }
  int max_world() const override { return DeviceCount(); }
  c10::DeviceType device() const override { return c10::kCUDA; }

 protected:
  void Run(int world, const RankBody& body,
           const HarnessOptions& options) override {
    auto store = std::make_shared<rendezvous::InMemoryKvStore>();
    std::barrier<> barrier(world);
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r) {
      threads.emplace_back([&, r] {
        // Tensors the bodies make on "cuda" land on this rank's device.
        c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(r));
        ThreadSide side(barrier);
        NcclOptions opts;
        opts.device = r;
        opts.timeout = options.timeout;
        opts.progress_interval = std::chrono::milliseconds(200);
        StatusOr<std::unique_ptr<Communicator>> comm =
            CreateNcclCommunicator(store, r, world, opts);
        if (!comm.ok()) {
          ADD_FAILURE() << "rank " << r << ": " << comm.status().ToString();
          barrier.arrive_and_drop();
          return;
        }
        body(**comm, side);
        side.OutOfBandBarrier();  // nobody tears down a peer's collective
      });
    }
    for (std::thread& t : threads) t.join();
  }
};

DSTRAIN_REGISTER_COMM_HARNESS(nccl,
                              [] { return std::make_unique<NcclHarness>(); });

}  // namespace
}  // namespace dstrain::comm::testing
