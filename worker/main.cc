// dstrain-worker: the training engine on its own, for machines that have
// only libtorch (no gRPC): start one per rank with torchrun-style
// environment (common/contract/worker_env.h: RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT...), e.g.
//   export WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
//   RANK=0 dstrain-worker configs/examples/charlm.yaml --set train.steps=9 &
//   RANK=1 dstrain-worker configs/examples/charlm.yaml --set train.steps=9
// or under MPI, with no rendezvous variables at all:
//   mpirun -np 4 dstrain-worker configs/examples/charlm.yaml --metrics-file m
// Exit codes as RunWorkerCommand (worker/worker_command.h); 2 for bad
// arguments.

#include <cstdio>
#include <cstring>
#include <string>

#include "worker/worker_command.h"

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: dstrain-worker JOB.yaml [--set key=value]... "
               "[--metrics-file PATH]\n"
               "Runs one rank of JOB (also under mpirun or srun); see "
               "worker/worker_command.h for the environment it reads.\n"
               "--metrics-file PATH  write the metrics JSON lines to PATH "
               "({rank} is replaced by the rank; without it .rank<N> is "
               "appended)\n");
}

}  // namespace

int main(int argc, char** argv) {
  dstrain::WorkerCommandOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      Usage(stdout);
      return 0;
    }
    if (arg == "--set") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "dstrain-worker: --set needs key=value\n");
        return 2;
      }
      options.overrides.push_back(argv[++i]);
    } else if (arg.rfind("--set=", 0) == 0) {
      options.overrides.push_back(arg.substr(6));
    } else if (arg == "--metrics-file") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "dstrain-worker: --metrics-file needs a path\n");
        return 2;
      }
      options.metrics_file = argv[++i];
    } else if (arg.rfind("--metrics-file=", 0) == 0) {
      options.metrics_file = arg.substr(15);
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "dstrain-worker: unknown option `%s`\n",
                   arg.c_str());
      Usage(stderr);
      return 2;
    } else if (options.job_path.empty()) {
      options.job_path = arg;
    } else {
      std::fprintf(stderr, "dstrain-worker: unexpected argument `%s`\n",
                   arg.c_str());
      return 2;
    }
  }
  if (options.job_path.empty()) {
    Usage(stderr);
    return 2;
  }
  return dstrain::RunWorkerCommand(options, nullptr);
}
