#pragma once
// The results of `dstrain bench comm`: one row per collective and size, and
// the two ways they are printed: an aligned text table like nccl-tests'
// (fixed widths, so rows can be printed as they are measured) and one JSON
// object (`--json`; bench/comm_torch.py writes the same schema, and
// bench/compare_comm.py reads both). Pure.
//
// JSON:
//   {"tool":"dstrain","backend":"gloo","world_size":2,"dtype":"float32",
//    "device":"cpu","target_seconds":0.2,"min_iters":3,"fixed_iters":0,
//    "rows":[{"op":"all_reduce","bytes":8,"count":2,"iters":4096,
//             "time_us":45.1,"algbw_gb_per_s":0.0002,"busbw_gb_per_s":0.0002,
//             "correct":true}, ...]}
// A barrier row has bytes 0, count 0 and null bandwidths.

#include <cstdint>
#include <string>
#include <vector>

#include "worker/comm/bench/bench_op.h"
#include "worker/comm/bench/iteration_policy.h"

namespace dstrain::comm::bench {

struct BenchRow {
  BenchOp op = BenchOp::kAllReduce;
  std::int64_t bytes = 0;  // the full buffer (size_sweep.h)
  std::int64_t count = 0;  // its elements
  int iters = 0;           // timed iterations
  double time_s = 0;       // per op: the mean over ranks of each rank's mean
  double algbw_gb_per_s = 0;
  double busbw_gb_per_s = 0;
  bool correct = false;  // every rank's result matched the expected values
};

// Fills the bandwidths from the nccl-tests definitions (bench_op.h).
BenchRow MakeRow(BenchOp op, std::int64_t bytes, std::int64_t count, int iters,
                 double time_s, int world_size, bool correct);

struct BenchReport {
  std::string tool = "dstrain";
  std::string backend;
  int world_size = 1;
  std::string dtype = "float32";
  std::string device = "cpu";
  IterationPolicy policy;
  std::vector<BenchRow> rows;
};

// Lines starting with '#': what ran, the definitions, the column titles.
std::string TableHeader(const BenchReport& report);
// One line, aligned under TableHeader's titles.
std::string TableRow(const BenchRow& row);
// "# all 61 rows correct; mean busbw 1.234 GB/s (all sizes, all ops but
// barrier)" or "# 2 of 61 rows WRONG: all_gather 8, ...".
std::string TableFooter(const BenchReport& report);
std::string FormatTable(const BenchReport& report);

std::string ReportJson(const BenchReport& report);

}  // namespace dstrain::comm::bench
