// The gloo harness: `world` threads of this process, each a rank with its
// own c10d::ProcessGroupGloo (real TCP over 127.0.0.1), meeting through one
// in-memory store per run.

#include <gtest/gtest.h>

#include <barrier>
#include <thread>
#include <vector>

#include "worker/comm/gloo_communicator.h"
#include "worker/comm/testing/comm_harness.h"
#include "common/rendezvous/in_memory_kv_store.h"

namespace dstrain::comm::testing {
namespace {

class ThreadSide : public RankSide {
 public:
  explicit ThreadSide(std::barrier<>& barrier) : barrier_(barrier) {}
  void OutOfBandBarrier() override { barrier_.arrive_and_wait(); }

 private:
  std::barrier<>& barrier_;
};

class GlooHarness : public CommHarness {
 public:
  std::string backend() const override { return "gloo"; }
  int max_world() const override { return 8; }

 protected:
  void Run(int world, const RankBody& body,
           const HarnessOptions& options) override {
    auto store = std::make_shared<rendezvous::InMemoryKvStore>();
    GlooOptions opts;
    opts.timeout = options.timeout;
    std::barrier<> barrier(world);
    std::vector<std::thread> threads;
    for (int r = 0; r < world; ++r) {
      threads.emplace_back([&, r] {
        ThreadSide side(barrier);
        StatusOr<std::unique_ptr<Communicator>> comm =
            CreateGlooCommunicator(store, r, world, opts);
        if (!comm.ok()) {
          ADD_FAILURE() << "rank " << r << ": " << comm.status().ToString();
          barrier.arrive_and_drop();
          return;
        }
        body(**comm, side);
        side.OutOfBandBarrier();  // nobody closes connections early
      });
    }
    for (std::thread& t : threads) t.join();
  }
};

DSTRAIN_REGISTER_COMM_HARNESS(gloo,
                              [] { return std::make_unique<GlooHarness>(); });

}  // namespace
}  // namespace dstrain::comm::testing
