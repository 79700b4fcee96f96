#include "worker/comm/comm_sweep.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include "worker/base/torch_error.h"
#include "worker/comm/bench/size_sweep.h"

namespace dstrain::comm::bench {
namespace {

using Clock = std::chrono::steady_clock;

c10::ScalarType ScalarTypeOf(BenchDtype d) {
  switch (d) {
    case BenchDtype::kFloat32:
      return c10::kFloat;
    case BenchDtype::kFloat16:
      return c10::kHalf;
    case BenchDtype::kBFloat16:
      return c10::kBFloat16;
    case BenchDtype::kFloat64:
      return c10::kDouble;
    case BenchDtype::kInt32:
      return c10::kInt;
    case BenchDtype::kInt64:
      return c10::kLong;
    case BenchDtype::kUint8:
      return c10::kByte;
  }
  return c10::kFloat;
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// (i mod 5) for i < n, in the bench's dtype and device.
at::Tensor Base(std::int64_t n, const at::TensorOptions& o) {
  if (n == 0) return at::empty({0}, o);
  return at::arange(5, o).repeat({(n + 4) / 5}).narrow(0, 0, n).clone();
}

// One row's buffers: `start` runs the op on them once; `check`, called once
// right after the first run, compares the result with the reference and
// releases what only the check needed.
struct RowOps {
  std::function<StatusOr<std::unique_ptr<Work>>()> start;
  std::function<bool()> check;
};

RowOps MakeRowOps(Communicator& comm, BenchOp op, const BufferShape& shape,
                  const at::TensorOptions& o) {
  const int n = comm.size();
  const int r = comm.rank();
  const std::int64_t tri = std::int64_t{n} * (n + 1) / 2;  // Σ (q + 1)
  const std::int64_t c = shape.count_per_rank;
  RowOps ops;
  switch (op) {
    case BenchOp::kAllReduce: {
      at::Tensor base = Base(shape.count, o);
      at::Tensor buf = base + (r + 1);
      ops.start = [&comm, buf]() mutable {
        return comm.AllReduce(buf, ReduceOp::kSum);
      };
      ops.check = [buf, base, n, tri] {
        return at::equal(buf, base * n + tri);
      };
      break;
    }
    case BenchOp::kBroadcast: {
      at::Tensor base = Base(shape.count, o);
      at::Tensor buf = base + (r + 1);
      ops.start = [&comm, buf]() mutable { return comm.Broadcast(buf, 0); };
      ops.check = [buf, base] { return at::equal(buf, base + 1); };
      break;
    }
    case BenchOp::kAllGather: {
      at::Tensor base = Base(c, o);
      at::Tensor in = base + (r + 1);
      at::Tensor out = at::empty({shape.count}, o);
      ops.start = [&comm, in, out]() mutable {
        return comm.AllGather(in, out);
      };
      ops.check = [out, base, n, c] {
        for (int q = 0; q < n; ++q) {
          if (!at::equal(out.narrow(0, q * c, c), base + (q + 1))) {
            return false;
          }
        }
        return true;
      };
      break;
    }
    case BenchOp::kReduceScatter: {
      at::Tensor base = Base(shape.count, o);
      at::Tensor in = base + (r + 1);
      at::Tensor out = at::empty({c}, o);
      ops.start = [&comm, in, out]() mutable {
        return comm.ReduceScatter(in, out, ReduceOp::kSum);
      };
      ops.check = [out, base, n, r, c, tri] {
        return at::equal(out, base.narrow(0, r * c, c) * n + tri);
      };
      break;
    }
    case BenchOp::kBarrier:
      ops.start = [&comm] { return comm.Barrier(); };
      ops.check = [] { return true; };
      break;
  }
  return ops;
}

Status RunTimes(RowOps& ops, int times) {
  for (int i = 0; i < times; ++i) DSTRAIN_RETURN_IF_ERROR(Await(ops.start()));
  return Status::Ok();
}

// Element-wise reduction of a few doubles over the group.
StatusOr<std::vector<double>> Agree(Communicator& comm, std::vector<double> v,
                                    ReduceOp op, const c10::Device& device) {
  at::Tensor t = at::tensor(v, at::kDouble).to(device);
  DSTRAIN_RETURN_IF_ERROR(Await(comm.AllReduce(t, op)));
  t = t.cpu();
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] = t[static_cast<std::int64_t>(i)].item<double>();
  }
  return v;
}

void SyncDevice(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

StatusOr<BenchRow> MeasureRow(Communicator& comm, BenchOp op,
                              std::int64_t bytes, const SweepOptions& options) {
  const at::TensorOptions o = at::TensorOptions()
                                  .dtype(ScalarTypeOf(options.dtype))
                                  .device(options.device);
  const BufferShape shape =
      ShapeFor(op, bytes, BenchDtypeSize(options.dtype), comm.size());
  RowOps ops = MakeRowOps(comm, op, shape, o);

  // 1. Checked run.
  DSTRAIN_RETURN_IF_ERROR(RunTimes(ops, 1));
  const bool ok = ops.check();
  ops.check = nullptr;  // frees the reference buffers

  // 2. One timed run; the slowest rank's time sets everyone's count.
  Clock::time_point t0 = Clock::now();
  DSTRAIN_RETURN_IF_ERROR(RunTimes(ops, 1));
  SyncDevice(options.device);
  DSTRAIN_ASSIGN_OR_RETURN(std::vector<double> estimate,
                           Agree(comm, {Seconds(Clock::now() - t0)},
                                 ReduceOp::kMax, options.device));
  const int iters = ChooseIterations(options.policy, estimate[0]);

  // 3. Warm-up.
  DSTRAIN_RETURN_IF_ERROR(
      RunTimes(ops, WarmupIterations(iters * options.policy.repeats)));

  // 4. Repeats, each lined up and agreed, until the policy has enough.
  std::vector<double> repeat_times;
  double measured = 0;
  do {
    DSTRAIN_RETURN_IF_ERROR(Await(comm.Barrier()));
    t0 = Clock::now();
    DSTRAIN_RETURN_IF_ERROR(RunTimes(ops, iters));
    SyncDevice(options.device);
    const double elapsed = Seconds(Clock::now() - t0);
    DSTRAIN_ASSIGN_OR_RETURN(std::vector<double> sums,
                             Agree(comm, {elapsed / iters, elapsed},
                                   ReduceOp::kSum, options.device));
    repeat_times.push_back(sums[0] / comm.size());
    measured += sums[1] / comm.size();
  } while (AnotherRepeat(options.policy, static_cast<int>(repeat_times.size()),
                         iters, measured));

  // 5. Correct only if every rank was.
  DSTRAIN_ASSIGN_OR_RETURN(
      std::vector<double> wrong,
      Agree(comm, {ok ? 0.0 : 1.0}, ReduceOp::kSum, options.device));
  return MakeRow(op, shape.bytes, shape.count,
                 iters * static_cast<int>(repeat_times.size()), repeat_times,
                 comm.size(), wrong[0] == 0.0);
}

}  // namespace

StatusOr<BenchReport> RunCommSweep(
    Communicator& comm, const SweepOptions& options,
    const std::function<void(const BenchRow&)>& on_row,
    const RowStart& on_start) {
  BenchReport report;
  report.backend = comm.backend();
  report.world_size = comm.size();
  report.dtype = BenchDtypeName(options.dtype);
  report.device = options.device.str();
  report.policy = options.policy;
  int rows = 0;
  for (BenchOp op : options.ops)
    rows +=
        op == BenchOp::kBarrier ? 1 : static_cast<int>(options.sizes.size());
  try {
    for (BenchOp op : options.ops) {
      const std::vector<std::int64_t> barrier_sizes = {0};
      for (std::int64_t bytes :
           op == BenchOp::kBarrier ? barrier_sizes : options.sizes) {
        if (on_start) {
          on_start(op, bytes, static_cast<int>(report.rows.size()) + 1, rows);
        }
        DSTRAIN_ASSIGN_OR_RETURN(BenchRow row,
                                 MeasureRow(comm, op, bytes, options));
        report.rows.push_back(row);
        if (on_row) on_row(row);
      }
    }
  } catch (const std::exception& e) {
    // Allocation failures and the like, from libtorch.
    return Internal(std::string("bench comm: ") + base::OneLine(e));
  }
  return report;
}

}  // namespace dstrain::comm::bench
