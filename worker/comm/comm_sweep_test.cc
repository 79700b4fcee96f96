#include "worker/comm/comm_sweep.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <thread>

#include "common/rendezvous/in_memory_kv_store.h"
#include "common/testing/status_matchers.h"
#include "worker/comm/bench/size_sweep.h"
#include "worker/comm/gloo_communicator.h"

namespace dstrain::comm::bench {
namespace {

using ::dstrain::testing::IsOk;

// Runs `body(comm)` on `world` gloo ranks (threads, real TCP on loopback).
void RunRanks(int world, const std::function<void(Communicator&)>& body) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  GlooOptions opts;
  opts.timeout = std::chrono::seconds(60);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      auto comm = CreateGlooCommunicator(store, r, world, opts);
      ASSERT_THAT(comm, IsOk()) << comm.status().ToString();
      body(**comm);
    });
  }
  for (auto& t : threads) t.join();
}

SweepOptions SmallSweep() {
  SweepOptions o;
  o.sizes = *SweepSizes(8, 4096);
  o.policy.fixed_iters = 3;
  return o;
}

TEST(CommSweepTest, EveryRowOfEveryOpIsCheckedTimedAndAgreed) {
  const int world = 3;  // 8 B of fp32 does not split over 3 ranks
  std::vector<BenchReport> reports(world);
  RunRanks(world, [&](Communicator& c) {
    StatusOr<BenchReport> r = RunCommSweep(c, SmallSweep());
    ASSERT_THAT(r, IsOk()) << r.status().ToString();
    reports[c.rank()] = *r;
  });
  const BenchReport& r = reports[0];
  EXPECT_EQ(r.backend, "gloo");
  EXPECT_EQ(r.world_size, world);
  EXPECT_EQ(r.dtype, "float32");
  EXPECT_EQ(r.device, "cpu");
  // 4 data ops × 6 sizes, then one barrier row.
  ASSERT_EQ(r.rows.size(), 4u * 6 + 1);
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const BenchRow& row = r.rows[i];
    EXPECT_TRUE(row.correct) << BenchOpName(row.op) << " " << row.bytes;
    // Fixed: exactly 5 repeats of 3 runs, the spread around the median.
    EXPECT_EQ(row.repeats, 5);
    EXPECT_EQ(row.iters, 15);
    EXPECT_GT(row.min_time_s, 0.0);
    EXPECT_LE(row.min_time_s, row.time_s);
    EXPECT_LE(row.time_s, row.max_time_s);
    // Every rank reports the same (agreed) row.
    for (int q = 1; q < world; ++q) {
      EXPECT_EQ(reports[q].rows[i].time_s, row.time_s);
      EXPECT_EQ(reports[q].rows[i].min_time_s, row.min_time_s);
      EXPECT_EQ(reports[q].rows[i].max_time_s, row.max_time_s);
      EXPECT_EQ(reports[q].rows[i].bytes, row.bytes);
    }
  }
  EXPECT_EQ(r.rows[0].op, BenchOp::kAllReduce);
  EXPECT_EQ(r.rows[0].bytes, 8);
  // all-gather of 8 B on 3 ranks: one float each, 12 B moved.
  EXPECT_EQ(r.rows[6].op, BenchOp::kAllGather);
  EXPECT_EQ(r.rows[6].bytes, 12);
  EXPECT_EQ(r.rows[6].count, 3);
  // 4 KiB gathered on 3 ranks: 341 floats each.
  EXPECT_EQ(r.rows[11].bytes, 341 * 3 * 4);
  EXPECT_EQ(r.rows.back().op, BenchOp::kBarrier);
  EXPECT_EQ(r.rows.back().bytes, 0);
}

TEST(CommSweepTest, TheIterationCountFollowsTheTimeTarget) {
  std::vector<BenchRow> rows(2);
  RunRanks(2, [&](Communicator& c) {
    SweepOptions o;
    o.ops = {BenchOp::kAllReduce, BenchOp::kBarrier};
    o.sizes = {1024};
    o.policy.target_seconds = 10;  // never reached: the cap decides
    o.policy.min_iters = 4;
    o.policy.max_iters = 10;
    o.policy.repeats = 2;
    int started = 0, done = 0;
    StatusOr<BenchReport> r = RunCommSweep(
        c, o, [&](const BenchRow&) { ++done; },
        [&](BenchOp, std::int64_t, int row, int total) {
          EXPECT_EQ(row, ++started);
          EXPECT_EQ(total, 2);
        });
    ASSERT_THAT(r, IsOk()) << r.status().ToString();
    EXPECT_EQ(started, 2);
    EXPECT_EQ(done, 2);
    rows[c.rank()] = r->rows[0];
  });
  // N is 4 or 5 (at most 10 / 2 per repeat), two repeats fill the cap of
  // 10, a third would pass it; both ranks ran the same.
  EXPECT_EQ(rows[0].repeats, 2);
  EXPECT_TRUE(rows[0].iters == 8 || rows[0].iters == 10) << rows[0].iters;
  EXPECT_EQ(rows[1].iters, rows[0].iters);
  EXPECT_EQ(rows[1].repeats, rows[0].repeats);
}

TEST(CommSweepTest, OtherDtypesAreCheckedExactly) {
  for (BenchDtype t :
       {BenchDtype::kFloat16, BenchDtype::kBFloat16, BenchDtype::kFloat64,
        BenchDtype::kInt32, BenchDtype::kInt64, BenchDtype::kUint8}) {
    RunRanks(2, [t](Communicator& c) {
      SweepOptions o = SmallSweep();
      o.dtype = t;
      o.ops = {BenchOp::kAllReduce, BenchOp::kReduceScatter};
      StatusOr<BenchReport> r = RunCommSweep(c, o);
      ASSERT_THAT(r, IsOk()) << r.status().ToString();
      for (const BenchRow& row : r->rows) {
        EXPECT_TRUE(row.correct) << BenchDtypeName(t) << " " << row.bytes;
      }
    });
  }
}

// A communicator whose all-gather delivers a wrong element on rank 1: the
// sweep's check must catch it, and every rank must report the row wrong.
class OffByOneGather : public Communicator {
 public:
  explicit OffByOneGather(Communicator& real) : real_(real) {}
  int rank() const override { return real_.rank(); }
  int size() const override { return real_.size(); }
  std::string backend() const override { return real_.backend(); }
  std::chrono::milliseconds timeout() const override { return real_.timeout(); }
  StatusOr<std::unique_ptr<Work>> AllReduce(at::Tensor& t,
                                            ReduceOp op) override {
    return real_.AllReduce(t, op);
  }
  StatusOr<std::unique_ptr<Work>> AllGather(const at::Tensor& in,
                                            at::Tensor& out) override {
    DSTRAIN_RETURN_IF_ERROR(Await(real_.AllGather(in, out)));
    if (rank() == 1) out[out.numel() - 1] += 1;
    return real_.Barrier();
  }
  StatusOr<std::unique_ptr<Work>> ReduceScatter(const at::Tensor& in,
                                                at::Tensor& out,
                                                ReduceOp op) override {
    return real_.ReduceScatter(in, out, op);
  }
  StatusOr<std::unique_ptr<Work>> Broadcast(at::Tensor& t, int root) override {
    return real_.Broadcast(t, root);
  }
  StatusOr<std::unique_ptr<Work>> Barrier() override { return real_.Barrier(); }
  StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override {
    return real_.Split(color, key);
  }

 private:
  Communicator& real_;
};

TEST(CommSweepTest, AWrongResultOnOneRankMarksTheRowWrongEverywhere) {
  RunRanks(2, [](Communicator& real) {
    OffByOneGather c(real);
    SweepOptions o = SmallSweep();
    o.ops = {BenchOp::kAllReduce, BenchOp::kAllGather};
    o.sizes = {64};
    StatusOr<BenchReport> r = RunCommSweep(c, o);
    ASSERT_THAT(r, IsOk()) << r.status().ToString();
    ASSERT_EQ(r->rows.size(), 2u);
    EXPECT_TRUE(r->rows[0].correct);
    EXPECT_FALSE(r->rows[1].correct) << "rank " << c.rank();
  });
}

}  // namespace
}  // namespace dstrain::comm::bench
