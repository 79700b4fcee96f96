#pragma once
// The measurement behind `dstrain bench comm`: every collective of
// `options.ops` at every size of `options.sizes` on one Communicator, timed
// and checked. bench/comm_torch.py does the same steps with
// torch.distributed, so the two are compared like for like.
//
// Per row (one op, one size), on every rank, in lockstep:
//   1. fill the inputs with a pattern (small integers, exact in every dtype:
//      rank r holds (i mod 5) + r + 1), run the op once and compare the
//      result with the sequential reference: the row's `correct`;
//   2. time one more run; the largest time over the ranks (all-reduce max)
//      is the estimate that IterationPolicy turns into N, the timed runs
//      per repeat, so every rank runs the same number;
//   3. WarmupIterations(N x repeats) untimed runs;
//   4. repeats: a barrier, then N timed runs (each op started and waited
//      before the next, as torch.distributed's synchronous calls do), then
//      an all-reduce (sum) of each rank's mean time and of its elapsed
//      time, so every rank has the repeat's mean over ranks and decides
//      alike whether to time another (IterationPolicy's AnotherRepeat);
//   5. all-reduce (sum) of the wrong flags: the row is correct only if
//      every rank was. The row holds the median, fastest and slowest repeat.
// The barrier row times Barrier() alone (correct = it completed).
//
// Every rank of `comm` calls RunCommSweep with the same options. The report
// is the same on every rank; `on_start` is called before each row (with its
// 1-based index and the number of rows) and `on_row` after it, on every
// rank (rank 0 prints). Errors (a collective failing or timing out) end the
// sweep with that Status. Tensors live on options.device (kCPU for gloo and
// mpi, the rank's CUDA device for nccl, whose Wait blocks until the op is
// done).

#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"
#include "worker/comm/bench/bench_dtype.h"
#include "worker/comm/bench/bench_op.h"
#include "worker/comm/bench/bench_report.h"
#include "worker/comm/bench/iteration_policy.h"
#include "worker/comm/communicator.h"

namespace dstrain::comm::bench {

struct SweepOptions {
  std::vector<BenchOp> ops = AllBenchOps();
  std::vector<std::int64_t> sizes;  // bytes (size_sweep.h)
  BenchDtype dtype = BenchDtype::kFloat32;
  c10::Device device = c10::kCPU;
  IterationPolicy policy;
};

using RowStart =
    std::function<void(BenchOp op, std::int64_t bytes, int row, int rows)>;

StatusOr<BenchReport> RunCommSweep(
    Communicator& comm, const SweepOptions& options,
    const std::function<void(const BenchRow&)>& on_row = nullptr,
    const RowStart& on_start = nullptr);

}  // namespace dstrain::comm::bench
