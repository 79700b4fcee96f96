#pragma once
// The results of `dstrain bench comm`: one row per collective and size, and
// the two ways they are printed: an aligned text table like nccl-tests'
// (fixed widths, so rows can be printed as they are measured) and one JSON
// object (`--json`; bench/comm_torch.py writes the same schema, and
// bench/compare_comm.py reads both). Pure.
//
// JSON:
//   {"tool":"dstrain","backend":"gloo","world_size":2,"dtype":"float32",
//    "device":"cpu","target_seconds":0.2,"min_iters":3,"max_iters":100000,
//    "fixed_iters":0,"repeats":5,
//    "rows":[{"op":"all_reduce","bytes":8,"count":2,"iters":4100,
//             "repeats":5,"time_us":45.1,"time_min_us":43.0,
//             "time_max_us":61.2,"algbw_gb_per_s":0.0002,
//             "busbw_gb_per_s":0.0002,"correct":true}, ...]}
// time_us is the median repeat, the bandwidths are computed from it; a
// barrier row has bytes 0, count 0 and null bandwidths.

#include <cstdint>
#include <string>
#include <vector>

#include "worker/comm/bench/bench_op.h"
#include "worker/comm/bench/iteration_policy.h"

namespace dstrain::comm::bench {

// The fastest, median and slowest of some times (the median of an even
// count is the mean of the middle two); all 0 for none.
struct Spread {
  double min = 0;
  double median = 0;
  double max = 0;
};
Spread SpreadOf(std::vector<double> values);

struct BenchRow {
  BenchOp op = BenchOp::kAllReduce;
  std::int64_t bytes = 0;  // the full buffer (size_sweep.h)
  std::int64_t count = 0;  // its elements
  int iters = 0;           // timed runs in all, over every repeat
  int repeats = 0;
  // Per op, each repeat's mean over ranks of each rank's mean: the median
  // repeat, and the fastest and slowest.
  double time_s = 0;
  double min_time_s = 0;
  double max_time_s = 0;
  double algbw_gb_per_s = 0;
  double busbw_gb_per_s = 0;
  bool correct = false;  // every rank's result matched the expected values
};

// A row from the per-op time of each repeat (`iters` runs in all), with
// the bandwidths of the median repeat by the nccl-tests definitions
// (bench_op.h).
BenchRow MakeRow(BenchOp op, std::int64_t bytes, std::int64_t count, int iters,
                 const std::vector<double>& repeat_times, int world_size,
                 bool correct);

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

// The live line a terminal shows while a sweep runs (on stderr, so a table
// or JSON on stdout stays clean): "bench comm: row 14/61, all_gather
// 256 MiB, 12 s".
std::string ProgressLine(int row, int rows, BenchOp op, std::int64_t bytes,
                         double elapsed_s);

std::string ReportJson(const BenchReport& report);

}  // namespace dstrain::comm::bench
