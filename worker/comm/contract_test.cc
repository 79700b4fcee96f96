// The communicator contract (communicator.h), the same bodies on every
// backend registered in this executable (testing/comm_harness.h) and every
// group size 1..4: every collective, every dtype, sizes that do not divide
// the group, zero-element tensors, Split, asynchronous completion, bad
// arguments, a rank that never arrives, and (with the shape checker)
// mismatched sizes. Results are compared with a sequential reference
// computed here from every rank's input.
//
// Inputs are small integers (0..15), a function of (rank, index, salt), so
// sums over 4 ranks are exact in every dtype, bf16 and uint8 included, and
// the reference is exact; only kAvg on a group of 3 rounds, and is compared
// within a few units in the last place.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <vector>

#include "common/testing/status_matchers.h"
#include "worker/comm/communicator.h"
#include "worker/comm/tensor_args.h"
#include "worker/comm/testing/comm_harness.h"

namespace dstrain::comm {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using testing::CommHarness;
using testing::GetHarness;
using testing::HarnessOptions;
using testing::RankSide;

const std::vector<at::ScalarType> kAllDtypes = {
    at::kFloat, at::kHalf, at::kBFloat16, at::kDouble,
    at::kInt,   at::kLong, at::kByte};
const std::vector<std::int64_t> kSmallSizes = {1, 7, 1000};
constexpr std::int64_t kLarge = 1000003;  // prime: never divides the group

// Rank `rank`'s input: n small integers of dtype `t`, on the CPU.
at::Tensor Input(int rank, std::int64_t n, at::ScalarType t, int salt = 0) {
  return ((at::arange(n, at::kLong) * 7 + rank * 5 + salt * 3) % 16).to(t);
}

std::vector<ReduceOp> OpsFor(at::ScalarType t) {
  std::vector<ReduceOp> ops = {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kMin};
  if (at::isFloatingType(t)) ops.push_back(ReduceOp::kAvg);
  return ops;
}

// The element-wise reduction over ranks 0..world-1 of Input(r, n, t, salt),
// computed exactly in float64 and rounded to `t` once (kAvg: the sum in `t`
// divided in `t`, as a sum-then-divide backend does).
at::Tensor Reference(ReduceOp op, int world, std::int64_t n, at::ScalarType t,
                     int salt) {
  at::Tensor acc = Input(0, n, t, salt).to(at::kDouble);
  for (int r = 1; r < world; ++r) {
    const at::Tensor x = Input(r, n, t, salt).to(at::kDouble);
    switch (op) {
      case ReduceOp::kSum:
      case ReduceOp::kAvg:
        acc = acc + x;
        break;
      case ReduceOp::kMax:
        acc = at::maximum(acc, x);
        break;
      case ReduceOp::kMin:
        acc = at::minimum(acc, x);
        break;
    }
  }
  at::Tensor out = acc.to(t);
  if (op == ReduceOp::kAvg) out.div_(world);
  return out;
}

// Equal, or for kAvg within a few units in the last place of `t`.
void ExpectMatches(const at::Tensor& actual, const at::Tensor& expected,
                   ReduceOp op, const std::string& what) {
  const at::Tensor a = actual.cpu().reshape({-1});
  const at::Tensor e = expected.reshape({-1});
  ASSERT_EQ(a.scalar_type(), e.scalar_type()) << what;
  ASSERT_EQ(a.numel(), e.numel()) << what;
  bool ok;
  if (op == ReduceOp::kAvg) {
    const double eps = a.scalar_type() == at::kBFloat16 ? 8e-3
                       : a.scalar_type() == at::kHalf   ? 1e-3
                                                        : 1e-6;
    ok = at::allclose(a.to(at::kDouble), e.to(at::kDouble), 2 * eps, 2 * eps);
  } else {
    ok = at::equal(a, e);
  }
  if (!ok) {
    const at::Tensor bad =
        at::nonzero(at::ne(a.to(at::kDouble), e.to(at::kDouble)));
    const std::int64_t i = bad.numel() > 0 ? bad[0][0].item<std::int64_t>() : 0;
    ADD_FAILURE() << what << ": first difference at element " << i << ": got "
                  << a[i].item<double>() << ", expected "
                  << e[i].item<double>();
  }
}

void Ok(StatusOr<std::unique_ptr<Work>> work, const std::string& what) {
  const Status s = Await(std::move(work));
  EXPECT_THAT(s, IsOk()) << what << ": " << s.ToString();
}

std::string Name(at::ScalarType t, ReduceOp op, std::int64_t n) {
  return DtypeName(t) + " " + ReduceOpName(op) + " n=" + std::to_string(n);
}

class CommContractTest
    : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  void SetUp() override {
    harness_ = &GetHarness(std::get<0>(GetParam()));
    world_ = std::get<1>(GetParam());
    const std::string why = harness_->SkipReason();
    if (!why.empty()) GTEST_SKIP() << why;
    if (world_ > harness_->max_world()) {
      GTEST_SKIP() << harness_->backend() << " makes at most "
                   << harness_->max_world() << " ranks here";
    }
  }

  // `t` on the backend's device.
  at::Tensor Dev(const at::Tensor& t) const {
    return t.to(c10::Device(harness_->device()));
  }
  at::Tensor Empty(std::int64_t n, at::ScalarType t) const {
    return at::empty({n}, at::TensorOptions().dtype(t).device(
                              c10::Device(harness_->device())));
  }

  void AllReduceCase(Communicator& c, at::ScalarType t, ReduceOp op,
                     std::int64_t n, int salt) {
    at::Tensor x = Dev(Input(c.rank(), n, t, salt));
    Ok(c.AllReduce(x, op), Name(t, op, n));
    ExpectMatches(
        x, Reference(op, c.size(), n, t, salt), op,
        "all-reduce " + Name(t, op, n) + " rank " + std::to_string(c.rank()));
  }

  void AllGatherCase(Communicator& c, at::ScalarType t, std::int64_t n,
                     int salt) {
    const at::Tensor in = Dev(Input(c.rank(), n, t, salt));
    at::Tensor out = Empty(n * c.size(), t);
    Ok(c.AllGather(in, out), "all-gather " + DtypeName(t));
    std::vector<at::Tensor> pieces;
    for (int r = 0; r < c.size(); ++r) pieces.push_back(Input(r, n, t, salt));
    ExpectMatches(out, at::cat(pieces), ReduceOp::kSum,
                  "all-gather " + DtypeName(t) + " n=" + std::to_string(n) +
                      " rank " + std::to_string(c.rank()));
  }

  void ReduceScatterCase(Communicator& c, at::ScalarType t, ReduceOp op,
                         std::int64_t n, int salt) {
    const std::int64_t w = c.size();
    const at::Tensor in = Dev(Input(c.rank(), n * w, t, salt));
    at::Tensor out = Empty(n, t);
    Ok(c.ReduceScatter(in, out, op), "reduce-scatter " + Name(t, op, n));
    const at::Tensor full = Reference(op, c.size(), n * w, t, salt);
    ExpectMatches(out, full.narrow(0, c.rank() * n, n), op,
                  "reduce-scatter " + Name(t, op, n) + " rank " +
                      std::to_string(c.rank()));
  }

  CommHarness* harness_ = nullptr;
  int world_ = 1;
};

TEST_P(CommContractTest, GroupKnowsItsRankSizeBackendAndTimeout) {
  HarnessOptions opts;
  opts.timeout = std::chrono::seconds(42);
  std::vector<int> seen(world_, 0);
  harness_->RunOnRanks(
      world_,
      [&](Communicator& c) {
        EXPECT_EQ(c.size(), world_);
        ASSERT_GE(c.rank(), 0);
        ASSERT_LT(c.rank(), world_);
        seen[c.rank()] += 1;
        EXPECT_EQ(c.backend(), harness_->backend());
        EXPECT_EQ(c.timeout(), std::chrono::seconds(42));
      },
      opts);
  // Threads see every rank; a process per rank sees its own.
  for (int r = 0; r < world_; ++r) EXPECT_LE(seen[r], 1);
}

TEST_P(CommContractTest, AllReduceEveryOpEveryDtype) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    int salt = 0;
    for (at::ScalarType t : kAllDtypes) {
      for (ReduceOp op : OpsFor(t)) {
        for (std::int64_t n : kSmallSizes) AllReduceCase(c, t, op, n, ++salt);
      }
    }
  });
}

TEST_P(CommContractTest, AllGatherEveryDtype) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    int salt = 0;
    for (at::ScalarType t : kAllDtypes) {
      for (std::int64_t n : kSmallSizes) AllGatherCase(c, t, n, ++salt);
    }
  });
}

TEST_P(CommContractTest, ReduceScatterEveryOpEveryDtype) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    int salt = 0;
    for (at::ScalarType t : kAllDtypes) {
      for (ReduceOp op : OpsFor(t)) {
        for (std::int64_t n : kSmallSizes) {
          ReduceScatterCase(c, t, op, n, ++salt);
        }
      }
    }
  });
}

TEST_P(CommContractTest, BroadcastEveryDtypeFromFirstAndLastRank) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    int salt = 0;
    for (at::ScalarType t : kAllDtypes) {
      for (int root : {0, c.size() - 1}) {
        for (std::int64_t n : kSmallSizes) {
          ++salt;
          at::Tensor x = Dev(Input(c.rank(), n, t, salt));
          Ok(c.Broadcast(x, root), "broadcast");
          ExpectMatches(x, Input(root, n, t, salt), ReduceOp::kSum,
                        "broadcast " + DtypeName(t) + " root " +
                            std::to_string(root) + " rank " +
                            std::to_string(c.rank()));
        }
      }
    }
  });
}

TEST_P(CommContractTest, LargeSizesThatDoNotDivideTheGroup) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    AllReduceCase(c, at::kFloat, ReduceOp::kSum, kLarge, 1);
    AllReduceCase(c, at::kBFloat16, ReduceOp::kMax, kLarge, 2);
    AllReduceCase(c, at::kHalf, ReduceOp::kAvg, kLarge, 3);
    AllGatherCase(c, at::kFloat, kLarge, 4);
    AllGatherCase(c, at::kByte, kLarge, 5);
    ReduceScatterCase(c, at::kFloat, ReduceOp::kSum, kLarge / 4 + 1, 6);
    ReduceScatterCase(c, at::kLong, ReduceOp::kMin, 100003, 7);
  });
}

TEST_P(CommContractTest, ZeroElementTensorsCompleteAtOnce) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    for (at::ScalarType t : kAllDtypes) {
      at::Tensor empty = Empty(0, t);
      at::Tensor empty2d = at::empty(
          {0, 3},
          at::TensorOptions().dtype(t).device(c10::Device(harness_->device())));
      Ok(c.AllReduce(empty, ReduceOp::kSum), "empty all-reduce");
      Ok(c.AllReduce(empty2d, ReduceOp::kMax), "empty 2-d all-reduce");
      at::Tensor out = Empty(0, t);
      Ok(c.AllGather(empty, out), "empty all-gather");
      Ok(c.ReduceScatter(empty, out, ReduceOp::kSum), "empty reduce-scatter");
      Ok(c.Broadcast(empty2d, 0), "empty broadcast");
    }
    // The group is still in step afterwards.
    AllReduceCase(c, at::kFloat, ReduceOp::kSum, 7, 1);
  });
}

TEST_P(CommContractTest, MultiDimensionalTensorsAreTreatedAsFlat) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    at::Tensor x = Dev(Input(c.rank(), 15, at::kFloat, 1).reshape({3, 5}));
    Ok(c.AllReduce(x, ReduceOp::kSum), "2-d all-reduce");
    ExpectMatches(x, Reference(ReduceOp::kSum, c.size(), 15, at::kFloat, 1),
                  ReduceOp::kSum, "2-d all-reduce");
    const at::Tensor in = Dev(Input(c.rank(), 6, at::kInt, 2).reshape({2, 3}));
    at::Tensor out = at::empty({2 * c.size(), 3}, in.options());
    Ok(c.AllGather(in, out), "2-d all-gather");
    std::vector<at::Tensor> pieces;
    for (int r = 0; r < c.size(); ++r)
      pieces.push_back(Input(r, 6, at::kInt, 2));
    ExpectMatches(out, at::cat(pieces), ReduceOp::kSum, "2-d all-gather");
  });
}

TEST_P(CommContractTest, AsynchronousWorksCompleteInAnyWaitOrder) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    at::Tensor a = Dev(Input(c.rank(), 1000, at::kFloat, 1));
    const at::Tensor gin = Dev(Input(c.rank(), 7, at::kLong, 2));
    at::Tensor gout = Empty(7 * c.size(), at::kLong);
    at::Tensor b = Dev(Input(c.rank(), 33, at::kDouble, 3));
    auto wa = c.AllReduce(a, ReduceOp::kSum);
    auto wg = c.AllGather(gin, gout);
    auto wb = c.Broadcast(b, c.size() - 1);
    auto wbar = c.Barrier();
    ASSERT_THAT(wa, IsOk());
    ASSERT_THAT(wg, IsOk());
    ASSERT_THAT(wb, IsOk());
    ASSERT_THAT(wbar, IsOk());
    EXPECT_THAT((*wbar)->Wait(), IsOk());
    EXPECT_THAT((*wb)->Wait(), IsOk());
    EXPECT_THAT((*wg)->Wait(), IsOk());
    EXPECT_THAT((*wa)->Wait(), IsOk());
    EXPECT_THAT((*wa)->Wait(), IsOk()) << "a second Wait returns the same";
    ExpectMatches(a, Reference(ReduceOp::kSum, c.size(), 1000, at::kFloat, 1),
                  ReduceOp::kSum, "async all-reduce");
    ExpectMatches(b, Input(c.size() - 1, 33, at::kDouble, 3), ReduceOp::kSum,
                  "async broadcast");
    std::vector<at::Tensor> pieces;
    for (int r = 0; r < c.size(); ++r)
      pieces.push_back(Input(r, 7, at::kLong, 2));
    ExpectMatches(gout, at::cat(pieces), ReduceOp::kSum, "async all-gather");
    Ok(c.Barrier(), "barrier");
  });
}

// The parent ranks of `sub`'s members, in `sub`'s rank order, learnt by
// all-gathering them over `sub`.
std::vector<std::int64_t> MembersOf(Communicator& sub, std::int64_t my_id,
                                    c10::DeviceType device) {
  const at::Tensor mine =
      at::full({1}, my_id, at::kLong).to(c10::Device(device));
  at::Tensor all = at::empty({sub.size()}, mine.options());
  Ok(sub.AllGather(mine, all), "members all-gather");
  const at::Tensor host = all.cpu();
  return std::vector<std::int64_t>(host.data_ptr<std::int64_t>(),
                                   host.data_ptr<std::int64_t>() + sub.size());
}

TEST_P(CommContractTest, SplitEvenAndOddRanks) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    const int r = c.rank();
    auto sub = c.Split(r % 2, r);
    ASSERT_THAT(sub, IsOk()) << sub.status().ToString();
    ASSERT_NE(*sub, nullptr);
    Communicator& s = **sub;
    EXPECT_EQ(s.size(), (world_ - r % 2 + 1) / 2);
    EXPECT_EQ(s.rank(), r / 2);
    EXPECT_EQ(s.backend(), c.backend());
    EXPECT_EQ(s.timeout(), c.timeout());
    std::vector<std::int64_t> expected;
    for (int q = r % 2; q < world_; q += 2) expected.push_back(q);
    EXPECT_EQ(MembersOf(s, r, harness_->device()), expected);
    // The sub-group reduces over its members only; the parent still works.
    at::Tensor x = Dev(at::full({5}, r + 1, at::kInt));
    Ok(s.AllReduce(x, ReduceOp::kSum), "sub all-reduce");
    std::int64_t sum = 0;
    for (std::int64_t q : expected) sum += q + 1;
    EXPECT_EQ(x.cpu()[4].item<std::int64_t>(), sum);
    AllReduceCase(c, at::kFloat, ReduceOp::kSum, 7, 1);
  });
}

TEST_P(CommContractTest, SplitOrdersByKeyThenParentRank) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    const int r = c.rank();
    auto reversed = c.Split(0, -r);
    ASSERT_THAT(reversed, IsOk()) << reversed.status().ToString();
    ASSERT_NE(*reversed, nullptr);
    EXPECT_EQ((*reversed)->rank(), world_ - 1 - r);
    std::vector<std::int64_t> expected;
    for (int q = world_ - 1; q >= 0; --q) expected.push_back(q);
    EXPECT_EQ(MembersOf(**reversed, r, harness_->device()), expected);
    // Equal keys: the parent's order decides.
    auto tied = c.Split(7, 0);
    ASSERT_THAT(tied, IsOk()) << tied.status().ToString();
    EXPECT_EQ((*tied)->rank(), r);
  });
}

TEST_P(CommContractTest, NegativeColourJoinsNoGroup) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    const int r = c.rank();
    auto sub = c.Split(r == 0 ? -1 : 3, r);
    ASSERT_THAT(sub, IsOk()) << sub.status().ToString();
    if (r == 0) {
      EXPECT_EQ(*sub, nullptr);
    } else {
      ASSERT_NE(*sub, nullptr);
      EXPECT_EQ((*sub)->size(), world_ - 1);
      EXPECT_EQ((*sub)->rank(), r - 1);
      at::Tensor x = Dev(at::full({3}, r, at::kLong));
      Ok((*sub)->AllReduce(x, ReduceOp::kSum), "sub all-reduce");
      EXPECT_EQ(x.cpu()[0].item<std::int64_t>(),
                static_cast<std::int64_t>(world_) * (world_ - 1) / 2);
    }
    // Everyone, the rank left out included, carries on in the parent.
    AllReduceCase(c, at::kInt, ReduceOp::kMax, 7, 2);
  });
}

TEST_P(CommContractTest, SplitOfASplitAndRepeatedSplits) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    const int r = c.rank();
    // Twice the same colours: the two splits must not share rendezvous.
    auto first = c.Split(r % 2, r);
    auto again = c.Split(r % 2, -r);
    ASSERT_THAT(first, IsOk());
    ASSERT_THAT(again, IsOk());
    Communicator& half = **first;
    // Interleave the siblings' collectives.
    at::Tensor a = Dev(at::full({4}, r, at::kFloat));
    at::Tensor b = Dev(at::full({4}, r, at::kFloat));
    auto wa = half.AllReduce(a, ReduceOp::kMax);
    auto wb = (*again)->AllReduce(b, ReduceOp::kMin);
    ASSERT_THAT(wa, IsOk());
    ASSERT_THAT(wb, IsOk());
    EXPECT_THAT((*wa)->Wait(), IsOk());
    EXPECT_THAT((*wb)->Wait(), IsOk());
    const int top =
        (world_ - 1) - ((world_ - 1 - r % 2) % 2);  // largest same parity
    EXPECT_EQ(a.cpu()[0].item<float>(), static_cast<float>(top));
    EXPECT_EQ(b.cpu()[0].item<float>(), static_cast<float>(r % 2));
    // Split the half again: its rank 0 alone, the rest together.
    auto quarter = half.Split(half.rank() == 0 ? 0 : 1, 0);
    ASSERT_THAT(quarter, IsOk()) << quarter.status().ToString();
    ASSERT_NE(*quarter, nullptr);
    std::vector<std::int64_t> expected;
    for (int q = r % 2; q < world_; q += 2) {
      if ((q / 2 == 0) == (half.rank() == 0)) expected.push_back(q);
    }
    EXPECT_EQ(MembersOf(**quarter, r, harness_->device()), expected);
  });
}

TEST_P(CommContractTest, BadArgumentsFailBeforeAnythingStarts) {
  harness_->RunOnRanks(world_, [&](Communicator& c) {
    auto expect_invalid = [](StatusOr<std::unique_ptr<Work>> w,
                             const std::string& needle) {
      ASSERT_THAT(w, Not(IsOk())) << "accepted: " << needle;
      EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument)
          << w.status().ToString();
      EXPECT_NE(w.status().message().find(needle), std::string::npos)
          << w.status().message();
    };
    at::Tensor mask = Dev(at::ones({4}, at::kBool));
    expect_invalid(c.AllReduce(mask, ReduceOp::kMax), "bool");
    at::Tensor ints = Dev(at::ones({4}, at::kInt));
    expect_invalid(c.AllReduce(ints, ReduceOp::kAvg), "avg");
    at::Tensor small = Empty(3, at::kInt);
    expect_invalid(c.AllGather(ints, small), "output has 3 elements");
    at::Tensor four = Empty(4, at::kInt);
    expect_invalid(c.ReduceScatter(small, four, ReduceOp::kSum),
                   "input has 3 elements");
    at::Tensor floats = Empty(4 * c.size(), at::kFloat);
    expect_invalid(c.AllGather(ints, floats), "float32");
    expect_invalid(c.Broadcast(ints, c.size()), "root");
    expect_invalid(c.Broadcast(ints, -1), "root");
    at::Tensor strided = Dev(at::ones({4, 4}, at::kFloat)).t();
    expect_invalid(c.AllReduce(strided, ReduceOp::kSum), "contiguous");
    at::Tensor undefined;
    expect_invalid(c.AllReduce(undefined, ReduceOp::kSum), "undefined");
    // Nothing started, so the group is still in step.
    AllReduceCase(c, at::kFloat, ReduceOp::kSum, 7, 1);
  });
}

TEST_P(CommContractTest, ARankThatNeverArrivesIsNamedWithinTheTimeout) {
  if (world_ < 2) GTEST_SKIP() << "needs a peer to miss";
  HarnessOptions opts;
  opts.timeout = std::chrono::seconds(2);
  harness_->RunOnRanks(
      world_,
      [&](Communicator& c, RankSide& side) {
        const int missing = c.size() - 1;
        at::Tensor x = Dev(at::ones({4096}, at::kFloat));
        Ok(c.AllReduce(x, ReduceOp::kSum), "all-reduce #1");
        if (c.rank() != missing) {
          const auto start = std::chrono::steady_clock::now();
          const Status s = Await(c.AllReduce(x, ReduceOp::kSum));
          const auto took = std::chrono::steady_clock::now() - start;
          EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
          const std::string expected =
              " all-reduce #2 (4096 x float32) timed out after 2 s on rank " +
              std::to_string(c.rank()) + "; rank " + std::to_string(missing) +
              " never arrived";
          EXPECT_NE(s.message().find(expected), std::string::npos)
              << s.message() << "\nwanted: ..." << expected;
          // A bound against hanging, not a speed claim: the timeout plus
          // the time to ask the progress board.
          EXPECT_LT(took, 3 * c.timeout()) << s.message();
          // Aborted from now on: later calls fail at once.
          const Status after = Await(c.Barrier());
          EXPECT_EQ(after.code(), StatusCode::kAborted) << after.ToString();
        }
        // The missing rank stays alive (connections open) until the others
        // have seen the timeout.
        side.OutOfBandBarrier();
      },
      opts);
}

TEST_P(CommContractTest, ShapeCheckerNamesRanksWithMismatchedSizes) {
  if (world_ < 2) GTEST_SKIP() << "needs two ranks to disagree";
  HarnessOptions opts;
  opts.check_shapes = true;
  opts.timeout = std::chrono::seconds(30);
  harness_->RunOnRanks(
      world_,
      [&](Communicator& c) {
        const int odd = c.size() - 1;
        at::Tensor x = Dev(at::ones({c.rank() == odd ? 8 : 7}, at::kFloat));
        const Status s = Await(c.AllReduce(x, ReduceOp::kSum));
        EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
        const std::string others =
            odd == 1 ? "rank 0" : (odd == 2 ? "ranks 0, 1" : "ranks 0, 1, 2");
        const std::string expected =
            "all-reduce #1: ranks disagree on the collective: " + others +
            ": all-reduce of 7 x float32 (sum); rank " + std::to_string(odd) +
            ": all-reduce of 8 x float32 (sum)";
        EXPECT_NE(s.message().find(expected), std::string::npos)
            << s.message() << "\nwanted: ..." << expected;
        // A different collective on one rank is caught the same way.
        const Status mixed =
            c.rank() == 0 ? Await(c.Broadcast(x, 0)) : Await(c.Barrier());
        EXPECT_EQ(mixed.code(), StatusCode::kInvalidArgument)
            << mixed.ToString();
        EXPECT_NE(mixed.message().find("rank 0: broadcast of"),
                  std::string::npos)
            << mixed.message();
        // Every rank refused the same collectives: still in step.
        AllReduceCase(c, at::kFloat, ReduceOp::kSum, 7, 1);
        auto sub = c.Split(0, c.rank());
        ASSERT_THAT(sub, IsOk()) << sub.status().ToString();
        at::Tensor y = Dev(at::ones({c.rank() == odd ? 2 : 3}, at::kInt));
        const Status in_sub = Await((*sub)->AllReduce(y, ReduceOp::kMax));
        EXPECT_EQ(in_sub.code(), StatusCode::kInvalidArgument)
            << "sub-groups are checked too: " << in_sub.ToString();
      },
      opts);
}

std::vector<std::tuple<std::string, int>> AllParams() {
  std::vector<std::tuple<std::string, int>> params;
  for (const std::string& name : testing::RegisteredHarnesses()) {
    for (int world = 1; world <= 4; ++world) params.emplace_back(name, world);
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(
    Backends, CommContractTest, ::testing::ValuesIn(AllParams()),
    [](const ::testing::TestParamInfo<std::tuple<std::string, int>>& info) {
      return std::get<0>(info.param) + "_w" +
             std::to_string(std::get<1>(info.param));
    });

}  // namespace
}  // namespace dstrain::comm
