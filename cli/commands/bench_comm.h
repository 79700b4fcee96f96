#pragma once
// `dstrain bench comm`: time, algbw and busbw (nccl-tests definitions)
// and a correctness check for each collective and message size,
// as an aligned table or `--json` (worker/comm/bench/bench_report.h).
//
//   dstrain bench comm --ranks 4 [--backend gloo|mpi|nccl|auto]
//       [--min-bytes 8]
//       [--max-bytes 256M] [--ops all_reduce,...] [--iters N] [--repeats R]
//       [--json]
//       starts 4 local ranks itself (bench_comm_launcher.h); with
//       --backend mpi it runs them under mpirun instead;
//   dstrain bench comm ...   without --ranks: this process is one rank of
//       an already launched job (torchrun-style RANK/WORLD_SIZE/MASTER_*, or
//       mpirun), or a group of one (bench_comm_rank.h).
// --backend auto is mpi under an MPI launcher, gloo otherwise
// (comm/backend_choice.h's rule for CPU jobs). Each row is timed in
// repeats (iteration_policy.h) and reports the median, fastest and slowest;
// while it runs, a terminal's stderr shows which row is being measured
// (stdout, table or JSON, is left as it is).
//
// Exit codes: 0 every row measured and correct; 1 a rank failed or a row
// was wrong; 2 bad arguments (one line naming the flag; nothing started);
// 130 interrupted.

#include <string>

namespace dstrain::cli {

struct BenchCommOptions {
  int ranks = 0;  // 0: not given
  std::string backend = "gloo";
  std::string min_bytes = "8";
  std::string max_bytes = "256M";
  std::string ops = "all";
  std::string dtype = "float32";
  int iters = 0;    // timed runs per repeat; 0: from target_seconds
  int repeats = 5;  // at least; the spread is over them
  double target_seconds = 0.2;
  double timeout_seconds = 300;
  bool json = false;
};

int RunBenchComm(const BenchCommOptions& options);

}  // namespace dstrain::cli
