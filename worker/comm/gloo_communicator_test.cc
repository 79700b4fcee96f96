#include "worker/comm/gloo_communicator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <thread>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

// Runs `body(rank, comm)` on `world` threads sharing one in-memory store,
// each with its own Gloo communicator (real TCP over loopback).
void RunRanks(int world, const std::function<void(int, Communicator&)>& body) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  GlooOptions opts;
  opts.timeout = std::chrono::seconds(60);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      auto comm = CreateGlooCommunicator(store, r, world, opts);
      ASSERT_THAT(comm, IsOk()) << comm.status().ToString();
      EXPECT_EQ((*comm)->rank(), r);
      EXPECT_EQ((*comm)->size(), world);
      EXPECT_EQ((*comm)->backend(), "gloo");
      body(r, **comm);
    });
  }
  for (auto& t : threads) t.join();
}

void Wait(StatusOr<std::unique_ptr<Work>> w) {
  ASSERT_THAT(w, IsOk()) << w.status().ToString();
  const Status s = (*w)->Wait();
  ASSERT_THAT(s, IsOk()) << s.ToString();
}

TEST(GlooCommunicatorTest, AllReduceSumMaxMinMatchSequentialReference) {
  const int world = 3;
  const int n = 100003;  // not a multiple of the world: uneven chunks
  RunRanks(world, [&](int r, Communicator& c) {
    // Rank r holds r + 1 + i * 0.5 at element i; integers and halves sum
    // exactly in fp32 at this size, so equality is exact.
    at::Tensor x = torch::arange(n, torch::kFloat32) * 0.5 + (r + 1);
    Wait(c.AllReduce(x, ReduceOp::kSum));
    at::Tensor expected = torch::arange(n, torch::kFloat32) * 0.5 * world +
                          (world * (world + 1) / 2);
    EXPECT_TRUE(torch::equal(x, expected)) << "rank " << r;

    at::Tensor m = torch::full({7}, static_cast<float>(r));
    Wait(c.AllReduce(m, ReduceOp::kMax));
    EXPECT_TRUE(torch::equal(m, torch::full({7}, float(world - 1))));
    at::Tensor lo =
        torch::full({7}, static_cast<int64_t>(r + 5), torch::kInt64);
    Wait(c.AllReduce(lo, ReduceOp::kMin));
    EXPECT_EQ(lo[3].item<int64_t>(), 5);
  });
}

TEST(GlooCommunicatorTest, AsyncWorkCompletesOutOfBand) {
  RunRanks(2, [&](int r, Communicator& c) {
    at::Tensor a = torch::full({1000}, float(r));
    at::Tensor b = torch::full({10}, float(10 * r));
    auto wa = c.AllReduce(a, ReduceOp::kSum);
    auto wb = c.AllReduce(b, ReduceOp::kSum);
    ASSERT_THAT(wa, IsOk());
    ASSERT_THAT(wb, IsOk());
    ASSERT_THAT((*wb)->Wait(), IsOk());
    ASSERT_THAT((*wa)->Wait(), IsOk());
    EXPECT_EQ(a[999].item<float>(), 1.0f);
    EXPECT_EQ(b[0].item<float>(), 10.0f);
  });
}

TEST(GlooCommunicatorTest, BroadcastAndBarrier) {
  RunRanks(3, [&](int r, Communicator& c) {
    at::Tensor x = torch::full({64}, float(r * 100 + 1));
    Wait(c.Broadcast(x, /*root=*/2));
    EXPECT_TRUE(torch::equal(x, torch::full({64}, 201.0f))) << r;
    EXPECT_THAT(Await(c.Barrier()), IsOk());
  });
}

TEST(GlooCommunicatorTest, AllGatherReduceScatterAvgAndSplit) {
  RunRanks(3, [&](int r, Communicator& c) {
    at::Tensor in = torch::full({5}, float(r + 1));
    at::Tensor out = torch::empty({15});
    Wait(c.AllGather(in, out));
    EXPECT_EQ(out[0].item<float>(), 1.0f);
    EXPECT_EQ(out[14].item<float>(), 3.0f);

    at::Tensor big = torch::arange(12, torch::kFloat32) + r;
    at::Tensor mine = torch::empty({4});
    Wait(c.ReduceScatter(big, mine, ReduceOp::kAvg));
    // mean over r of (i + r) = i + 1 for i in this rank's slice.
    EXPECT_TRUE(torch::equal(
        mine, torch::arange(4 * r, 4 * r + 4, torch::kFloat32) + 1))
        << r;

    auto sub = c.Split(r == 1 ? -1 : 0, -r);  // reversed keys, rank 1 out
    ASSERT_THAT(sub, IsOk()) << sub.status().ToString();
    if (r == 1) {
      EXPECT_EQ(*sub, nullptr);
      return;
    }
    ASSERT_NE(*sub, nullptr);
    EXPECT_EQ((*sub)->size(), 2);
    EXPECT_EQ((*sub)->rank(), r == 2 ? 0 : 1);
    at::Tensor x = torch::full({3}, float(r));
    Wait((*sub)->Broadcast(x, 0));  // sub rank 0 is parent rank 2
    EXPECT_EQ(x[0].item<float>(), 2.0f);
  });
}

TEST(GlooCommunicatorTest, BoolTensorsAreRefusedWithAClearError) {
  RunRanks(1, [&](int, Communicator& c) {
    at::Tensor mask = torch::ones({4}, torch::kBool);
    auto w = c.Broadcast(mask, 0);
    ASSERT_THAT(w, Not(IsOk()));
    EXPECT_NE(w.status().message().find("bool"), std::string::npos);
  });
}

TEST(GlooCommunicatorTest, MissingPeerTimesOutWithAStatus) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  GlooOptions opts;
  opts.timeout = std::chrono::milliseconds(300);
  auto comm = CreateGlooCommunicator(store, 0, 2, opts);  // rank 1 never comes
  ASSERT_THAT(comm, Not(IsOk()));
  EXPECT_NE(comm.status().message().find("could not form"), std::string::npos)
      << comm.status().message();
}

}  // namespace
}  // namespace dstrain::comm
