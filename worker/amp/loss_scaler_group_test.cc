// The scaler across a data-parallel group: ranks are threads of this
// process, each with its own real Gloo communicator (TCP over 127.0.0.1)
// meeting through one in-memory store. An inf or NaN in ONE rank's gradient
// shard must make EVERY rank skip that step and back off the same way.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <thread>
#include <vector>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "worker/amp/loss_scaler.h"
#include "worker/comm/gloo_communicator.h"

namespace dstrain::amp {
namespace {

using ::dstrain::testing::IsOk;

struct Trace {
  std::vector<bool> skipped;
  std::vector<double> scale;
  std::vector<std::int64_t> tracker;
  at::Tensor params;
};

// Who poisons which step: {step, rank, value}.
struct Injection {
  int step;
  int rank;
  float value;
};

// How the ranks agree on the flag.
enum class Agreement {
  kNone,     // not at all (to show the test would catch it)
  kScaler,   // LossScaler::AgreeOnFoundInf (all-reduce max, float32)
  kAdopted,  // the engine's way: its own reduction of LocalFoundInf (sum,
             // float64, with the loss and norm), then AdoptGroupFoundInf
};

// Every rank owns a 4-element shard of a scaled gradient.
std::vector<Trace> RunGroup(int world, int steps,
                            const std::vector<Injection>& injections,
                            Agreement agree) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  comm::GlooOptions opts;
  opts.timeout = std::chrono::seconds(60);
  std::vector<Trace> traces(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      StatusOr<std::unique_ptr<comm::Communicator>> comm =
          comm::CreateGlooCommunicator(store, r, world, opts);
      ASSERT_THAT(comm, IsOk()) << comm.status().ToString();
      LossScalerOptions o;
      o.growth_interval = 3;  // so growth shows within a few steps
      StatusOr<LossScaler> scaler = LossScaler::Create(o);
      ASSERT_THAT(scaler, IsOk());
      at::Tensor shard_params = torch::zeros({4});
      for (int step = 0; step < steps; ++step) {
        // This step's (already reduced) scaled gradient slice.
        at::Tensor grad = torch::full({4}, 1.0f) * scaler->scale();
        for (const Injection& inj : injections) {
          if (inj.step == step && inj.rank == r) grad[2] = inj.value;
        }
        ASSERT_THAT(scaler->Unscale({grad}), IsOk());
        if (agree == Agreement::kScaler) {
          const Status s = scaler->AgreeOnFoundInf(**comm);
          ASSERT_THAT(s, IsOk()) << s.ToString();
        } else if (agree == Agreement::kAdopted) {
          StatusOr<bool> local = scaler->LocalFoundInf();
          ASSERT_THAT(local, IsOk());
          at::Tensor stats =
              torch::tensor({2.5, 1.0, *local ? 1.0 : 0.0}, torch::kFloat64);
          ASSERT_THAT(
              comm::Await((*comm)->AllReduce(stats, comm::ReduceOp::kSum)),
              IsOk());
          ASSERT_THAT(scaler->AdoptGroupFoundInf(stats[2].item<double>() > 0),
                      IsOk());
        }
        const bool skip = scaler->ShouldSkipStep();
        if (!skip) shard_params.sub_(grad);
        ASSERT_THAT(scaler->Update(), IsOk());
        traces[r].skipped.push_back(skip);
        traces[r].scale.push_back(scaler->scale());
        traces[r].tracker.push_back(scaler->growth_tracker());
      }
      traces[r].params = shard_params;
      // Nobody closes its connections while a peer is mid-collective.
      ASSERT_THAT(comm::Await((*comm)->Barrier()), IsOk());
    });
  }
  for (std::thread& t : threads) t.join();
  return traces;
}

TEST(LossScalerGroupTest, AnInfOnOneRankMakesEveryRankSkip) {
  for (auto [world, agree] :
       {std::pair{2, Agreement::kScaler}, std::pair{3, Agreement::kScaler},
        std::pair{3, Agreement::kAdopted}}) {
    SCOPED_TRACE("world " + std::to_string(world) +
                 (agree == Agreement::kScaler ? ", scaler" : ", adopted"));
    const int last = world - 1;
    const std::vector<Injection> inj = {{2, last, INFINITY},
                                        {5, 0, std::nanf("")}};
    const std::vector<Trace> t = RunGroup(world, 8, inj, agree);
    ASSERT_EQ(t.size(), static_cast<std::size_t>(world));
    const std::vector<bool> want_skips = {false, false, true,  false,
                                          false, true,  false, false};
    const std::vector<double> want_scale = {65536, 65536, 32768, 32768,
                                            32768, 16384, 16384, 16384};
    const std::vector<std::int64_t> want_tracker = {1, 2, 0, 1, 2, 0, 1, 2};
    for (int r = 0; r < world; ++r) {
      SCOPED_TRACE("rank " + std::to_string(r));
      EXPECT_EQ(t[r].skipped, want_skips);
      EXPECT_EQ(t[r].scale, want_scale);
      EXPECT_EQ(t[r].tracker, want_tracker);
      EXPECT_TRUE(torch::equal(t[r].params, t[0].params));
    }
    // Six clean steps applied: every parameter moved by -6.
    EXPECT_TRUE(torch::equal(t[0].params, torch::full({4}, -6.0f)));
  }
}

TEST(LossScalerGroupTest, GrowthStaysInStepAcrossRanks) {
  const std::vector<Trace> t = RunGroup(3, 7, {}, Agreement::kScaler);
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(t[r].scale, (std::vector<double>{65536, 65536, 131072, 131072,
                                               131072, 262144, 262144}));
  }
}

// Without the agreement the ranks part ways: the check above has teeth.
TEST(LossScalerGroupTest, WithoutAgreementRanksDiverge) {
  const std::vector<Trace> t =
      RunGroup(2, 4, {{1, 1, INFINITY}}, Agreement::kNone);
  EXPECT_FALSE(t[0].skipped[1]);
  EXPECT_TRUE(t[1].skipped[1]);
  EXPECT_NE(t[0].scale[1], t[1].scale[1]);
}

}  // namespace
}  // namespace dstrain::amp
