#include "cli/commands/bench_comm.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands/bench_comm_launcher.h"
#include "cli/engine/bench_comm_rank.h"
#include "common/contract/mpi_launch_env.h"
#include "worker/comm/bench/size_sweep.h"

namespace dstrain::cli {
namespace {

constexpr const char* kWhat = "dstrain bench comm";

bool InEnv(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0';
}

// Started by torchrun-style launchers (our own --ranks too) or by MPI.
bool InsideLaunchedJob() {
  return InEnv("RANK") || InEnv("WORLD_SIZE") ||
         contract::DetectMpiLaunch().launched;
}

StatusOr<BenchCommSpec> ParseSpec(const BenchCommOptions& o) {
  BenchCommSpec spec;
  if (o.backend != "gloo" && o.backend != "mpi" && o.backend != "nccl" &&
      o.backend != "auto") {
    return InvalidArgument("--backend: `" + o.backend +
                           "` is not one of gloo, mpi, nccl, auto");
  }
  // auto: the CPU backend the launch suggests (backend_choice.h); nccl is
  // only ever asked for by name, since the bench has no device flag.
  spec.backend = o.backend != "auto" ? o.backend
                 : o.ranks == 0 && contract::DetectMpiLaunch().launched
                     ? "mpi"
                     : "gloo";
  DSTRAIN_ASSIGN_OR_RETURN(std::vector<comm::bench::BenchOp> ops,
                           comm::bench::ParseBenchOps(o.ops, "--ops"));
  spec.ops = ops;
  DSTRAIN_ASSIGN_OR_RETURN(
      std::vector<std::int64_t> sizes,
      comm::bench::SweepSizesFromFlags(o.min_bytes, o.max_bytes));
  spec.sizes = sizes;
  DSTRAIN_ASSIGN_OR_RETURN(comm::bench::BenchDtype dtype,
                           comm::bench::ParseBenchDtype(o.dtype, "--dtype"));
  spec.dtype = dtype;
  if (o.iters < 0) return InvalidArgument("--iters: must be >= 1");
  spec.policy.fixed_iters = o.iters;
  if (o.repeats < 1) return InvalidArgument("--repeats: must be >= 1");
  spec.policy.repeats = o.repeats;
  if (!(o.target_seconds > 0)) {
    return InvalidArgument("--target-time: must be > 0 seconds");
  }
  spec.policy.target_seconds = o.target_seconds;
  if (!(o.timeout_seconds > 0)) {
    return InvalidArgument("--timeout: must be > 0 seconds");
  }
  spec.timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(o.timeout_seconds * 1000));
  spec.json = o.json;
  return spec;
}

// The same command for each rank, without --ranks.
std::vector<std::string> RankArgs(const BenchCommOptions& o) {
  std::vector<std::string> args = {
      "bench",         "comm",
      "--backend",     o.backend,
      "--min-bytes",   o.min_bytes,
      "--max-bytes",   o.max_bytes,
      "--ops",         o.ops,
      "--dtype",       o.dtype,
      "--target-time", std::to_string(o.target_seconds),
      "--timeout",     std::to_string(o.timeout_seconds),
      "--repeats",     std::to_string(o.repeats)};
  if (o.iters > 0) {
    args.push_back("--iters");
    args.push_back(std::to_string(o.iters));
  }
  if (o.json) args.push_back("--json");
  return args;
}

}  // namespace

int RunBenchComm(const BenchCommOptions& options) {
  StatusOr<BenchCommSpec> spec = ParseSpec(options);
  if (!spec.ok()) {
    std::fprintf(stderr, "%s: %s\n", kWhat, spec.status().message().c_str());
    return 2;
  }
  if (options.ranks == 0) return RunBenchCommRank(*spec);
  if (InsideLaunchedJob()) {
    std::fprintf(stderr,
                 "%s: --ranks starts ranks of its own, but this process is "
                 "already a rank of a launched job (RANK/WORLD_SIZE or an "
                 "MPI launcher's variables are set); drop --ranks\n",
                 kWhat);
    return 2;
  }
  BenchCommOptions ranks = options;
  ranks.backend = spec->backend;
  LocalRanksOptions launch;
  launch.ranks = options.ranks;
  launch.args = RankArgs(ranks);
  launch.what = kWhat;
  return spec->backend == "mpi" ? RunUnderMpirun(launch)
                                : RunLocalRanks(launch);
}

}  // namespace dstrain::cli
