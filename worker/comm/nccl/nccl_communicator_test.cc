// What is particular to the NCCL backend, on real devices (CTest label
// `gpu`): device checks, stream ordering, Split's lifetimes, and with two
// devices a real pair and a missing rank. Every op and dtype against the
// sequential reference is the contract suite's job (comm_nccl_contract_test).
// Every test skips cleanly where cudaGetDeviceCount shows no device.
#include "worker/comm/nccl/nccl_communicator.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <latch>
#include <thread>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;

int DeviceCount() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess ? n : 0;
}

#define SKIP_UNLESS_DEVICES(n)                                            \
  do {                                                                    \
    if (DeviceCount() < (n)) {                                            \
      GTEST_SKIP() << "needs " << (n) << " CUDA device(s), this machine " \
                   << "has " << DeviceCount();                            \
    }                                                                     \
  } while (0)

void Ok(StatusOr<std::unique_ptr<Work>> w) {
  ASSERT_THAT(w, IsOk()) << w.status().ToString();
  const Status s = (*w)->Wait();
  ASSERT_THAT(s, IsOk()) << s.ToString();
}

std::unique_ptr<Communicator> Solo() {
  NcclOptions opts;
  opts.device = 0;
  opts.timeout = std::chrono::seconds(60);
  auto comm = CreateNcclCommunicator(
      std::make_shared<rendezvous::InMemoryKvStore>(), 0, 1, opts);
  EXPECT_THAT(comm, IsOk()) << comm.status().ToString();
  return comm.ok() ? std::move(*comm) : nullptr;
}

at::TensorOptions On(at::ScalarType t) {
  return at::TensorOptions().dtype(t).device(at::kCUDA, 0);
}

at::Tensor Pattern(std::int64_t n, at::ScalarType t, int offset) {
  return (torch::arange(n, torch::kLong) % 7 + offset).to(On(t));
}

TEST(NcclSoloTest, TensorsOnAnotherDeviceOrTheCpuAreRefused) {
  SKIP_UNLESS_DEVICES(1);
  auto comm = Solo();
  ASSERT_NE(comm, nullptr);
  at::Tensor cpu = torch::ones({4});
  const Status s = comm->AllReduce(cpu, ReduceOp::kSum).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nccl all-reduce #1"), std::string::npos)
      << s.message();
  if (DeviceCount() >= 2) {
    at::Tensor other =
        torch::ones({4}, at::TensorOptions().device(at::kCUDA, 1));
    const Status d = comm->AllReduce(other, ReduceOp::kSum).status();
    EXPECT_EQ(d.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(d.message().find("cuda:1"), std::string::npos) << d.message();
  }
  at::Tensor ok = torch::ones({4}, On(at::kFloat));
  Ok(comm->AllReduce(ok, ReduceOp::kSum));
}

TEST(NcclSoloTest, WaitOrdersTheCallersCurrentStream) {
  SKIP_UNLESS_DEVICES(1);
  auto comm = Solo();
  ASSERT_NE(comm, nullptr);
  const std::int64_t n = 1 << 22;
  const at::Tensor in = Pattern(n, at::kFloat, 3);
  at::Tensor out = torch::zeros({n}, On(at::kFloat));
  auto work = comm->AllGather(in, out);
  ASSERT_THAT(work, IsOk());
  // Wait from another stream: work queued there afterwards sees the result.
  c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromPool(false, 0));
  ASSERT_THAT((*work)->Wait(), IsOk());
  EXPECT_TRUE(torch::equal(out * 2, in * 2));
}

TEST(NcclSoloTest, SplitMakesAGroupOfOneOrNone) {
  SKIP_UNLESS_DEVICES(1);
  auto comm = Solo();
  ASSERT_NE(comm, nullptr);
  auto child = comm->Split(/*color=*/5, /*key=*/0);
  ASSERT_THAT(child, IsOk()) << child.status().ToString();
  ASSERT_NE(*child, nullptr);
  EXPECT_EQ((*child)->size(), 1);
  EXPECT_EQ((*child)->rank(), 0);
  EXPECT_EQ((*child)->backend(), "nccl");
  at::Tensor x = Pattern(1000, at::kFloat, 1);
  const at::Tensor ref = x.clone();
  Ok((*child)->AllReduce(x, ReduceOp::kSum));
  EXPECT_TRUE(torch::equal(x, ref));
  // The parent still works, and outlives or predeceases the child freely.
  Ok(comm->AllReduce(x, ReduceOp::kMax));
  auto none = comm->Split(-1, 0);
  ASSERT_THAT(none, IsOk()) << none.status().ToString();
  EXPECT_EQ(*none, nullptr);
  comm.reset();
  Ok((*child)->Barrier());
}

// One thread per rank, rank r on device r, sharing one in-memory store.
void RunRanks(int world, std::chrono::milliseconds timeout,
              const std::function<void(int, Communicator&)>& body) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      c10::cuda::CUDAGuard device(static_cast<c10::DeviceIndex>(r));
      NcclOptions opts;
      opts.device = r;
      opts.timeout = timeout;
      opts.progress_interval = std::chrono::milliseconds(100);
      auto comm = CreateNcclCommunicator(store, r, world, opts);
      ASSERT_THAT(comm, IsOk()) << comm.status().ToString();
      body(r, **comm);
    });
  }
  for (auto& t : threads) t.join();
}

TEST(NcclPairTest, SumsGathersAndSplitsAcrossTwoDevices) {
  SKIP_UNLESS_DEVICES(2);
  RunRanks(2, std::chrono::seconds(60), [](int r, Communicator& c) {
    auto on = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, r);
    at::Tensor x = torch::full({1001}, static_cast<float>(r + 1), on);
    Ok(c.AllReduce(x, ReduceOp::kSum));
    EXPECT_EQ(x[1000].item<float>(), 3.0f);
    at::Tensor out = torch::zeros({2002}, on);
    Ok(c.AllGather(torch::full({1001}, static_cast<float>(r), on), out));
    EXPECT_EQ(out[0].item<float>(), 0.0f);
    EXPECT_EQ(out[2001].item<float>(), 1.0f);
    // Both in one group, ordered by key: rank 1 first.
    auto both = c.Split(0, /*key=*/-r);
    ASSERT_THAT(both, IsOk()) << both.status().ToString();
    EXPECT_EQ((*both)->rank(), 1 - r);
    at::Tensor y = torch::full({3}, static_cast<float>(r), on);
    Ok((*both)->Broadcast(y, 0));  // new rank 0 = old rank 1
    EXPECT_EQ(y[0].item<float>(), 1.0f);
  });
}

TEST(NcclPairTest, AMissingRankTimesOutNamingIt) {
  SKIP_UNLESS_DEVICES(2);
  // Rank 1 never issues the all-reduce, but keeps its communicator alive
  // (tearing it down would fail rank 0 with a remote error instead).
  std::latch rank0_done(1);
  RunRanks(2, std::chrono::seconds(3), [&](int r, Communicator& c) {
    if (r == 1) {
      rank0_done.wait();
      return;
    }
    auto on = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, r);
    at::Tensor x = torch::ones({16}, on);
    auto w = c.AllReduce(x, ReduceOp::kSum);
    ASSERT_THAT(w, IsOk());
    const Status s = (*w)->Wait();
    EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
    EXPECT_NE(s.message().find("nccl all-reduce #1 (16 x float32)"),
              std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("rank 1 never arrived"), std::string::npos)
        << s.message();
    EXPECT_EQ(c.AllReduce(x, ReduceOp::kSum).status().code(),
              StatusCode::kAborted);
    rank0_done.count_down();
  });
}

}  // namespace
}  // namespace dstrain::comm
