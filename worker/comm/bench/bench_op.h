#pragma once
// The collectives `dstrain bench comm` measures, their names, and their
// bandwidths in GB/s. Pure functions; no torch, so the CLI and the Python
// peer's conventions are tested without libtorch.
//
// algbw and busbw are the nccl-tests figures of common/bus_bandwidth.h; a
// barrier moves no data, so its row reports time only.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bus_bandwidth.h"
#include "common/status.h"

namespace dstrain::comm::bench {

// The same collectives the topology simulator predicts, so a measured and a
// predicted busbw come from one factor table.
using BenchOp = Collective;

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

// AlgBandwidth and BusBandwidth (common/bus_bandwidth.h) in GB/s with
// GB = 1e9 bytes, as nccl-tests; 0 when seconds <= 0.
double AlgBandwidthGBps(std::int64_t bytes, double seconds);
double BusBandwidthGBps(BenchOp op, int world_size, std::int64_t bytes,
                        double seconds);

}  // namespace dstrain::comm::bench
