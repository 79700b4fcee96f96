#pragma once
// The collectives `dstrain bench comm` measures, their names, and the
// nccl-tests bus-bandwidth factors. Pure functions; no torch, so
// the CLI and the Python peer's conventions are tested without libtorch.
//
//   algbw = S / t          (S: the size of the full buffer, as nccl-tests)
//   busbw = algbw · factor  all-reduce 2(n−1)/n; all-gather and
//                           reduce-scatter (n−1)/n; broadcast 1; barrier 0
//                           (moves no data: its row reports time only)

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace dstrain::comm::bench {

enum class BenchOp {
  kAllReduce,
  kAllGather,
  kReduceScatter,
  kBroadcast,
  kBarrier
};

// Every op, in the order the sweep runs them.
const std::vector<BenchOp>& AllBenchOps();

// "all_reduce", "all_gather", "reduce_scatter", "broadcast", "barrier"
// (nccl-tests' binary names without "_perf"); the JSON and table use these.
const char* BenchOpName(BenchOp op);

// One name: the canonical one, or with '-' for '_', or without the
// separator ("allreduce"). Case-insensitive.
StatusOr<BenchOp> ParseBenchOp(std::string_view name);

// A comma-separated list ("all_reduce,broadcast") or "all"; duplicates are
// dropped, the sweep order kept. Errors name `flag` and the bad word.
StatusOr<std::vector<BenchOp>> ParseBenchOps(std::string_view list,
                                             std::string_view flag);

// The nccl-tests factor from algbw to busbw on `world_size` ranks.
double BusBandwidthFactor(BenchOp op, int world_size);

// GB/s with GB = 1e9 bytes, as nccl-tests; 0 when seconds <= 0.
double AlgBandwidthGBps(std::int64_t bytes, double seconds);
double BusBandwidthGBps(BenchOp op, int world_size, std::int64_t bytes,
                        double seconds);

}  // namespace dstrain::comm::bench
