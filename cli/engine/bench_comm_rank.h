#pragma once
// One rank of `dstrain bench comm` (the libtorch side, in
// dstrain_cli_engine; this header includes no torch). It finds its group
// from the environment, makes the communicator, runs the sweep
// (worker/comm/comm_sweep.h) and, on rank 0, prints the table as rows
// are measured, or the JSON object at the end.
//
// The group, in order of precedence:
//   - started by mpirun / srun --mpi=pmix (mpi_launch_env.h): rank and size
//     from MPI, the store over MPI (mpi_store.h);
//   - RANK / WORLD_SIZE set (torchrun-style, or `--ranks`): a TCPStore at
//     MASTER_ADDR:MASTER_PORT, served by rank 0;
//   - neither: a group of one.
// Backends: gloo (CPU), mpi (CPU, only under an MPI launcher), nccl (the
// rank's CUDA device, LOCAL_RANK).
//
// Exit codes: 0 done, every row correct; 1 a collective failed or timed
// out, or a row was wrong (named on stderr); 2 the environment is
// incomplete or the backend cannot run here.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "worker/comm/bench/bench_dtype.h"
#include "worker/comm/bench/bench_op.h"
#include "worker/comm/bench/iteration_policy.h"

namespace dstrain::cli {

struct BenchCommSpec {
  std::string backend = "gloo";  // gloo | mpi | nccl
  std::vector<comm::bench::BenchOp> ops;
  std::vector<std::int64_t> sizes;  // bytes
  comm::bench::BenchDtype dtype = comm::bench::BenchDtype::kFloat32;
  comm::bench::IterationPolicy policy;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  bool json = false;
};

int RunBenchCommRank(const BenchCommSpec& spec);

}  // namespace dstrain::cli
