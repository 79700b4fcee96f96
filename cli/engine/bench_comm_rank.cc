#include "cli/engine/bench_comm_rank.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "common/contract/mpi_launch_env.h"
#include "common/rendezvous/in_memory_kv_store.h"
#include "common/strings.h"
#include "worker/comm/bench/bench_report.h"
#include "worker/comm/comm_sweep.h"
#include "worker/comm/gloo_communicator.h"
#include "worker/comm/nccl/nccl_communicator.h"
#include "worker/rendezvous/tcp_kv_store.h"

#ifdef DSTRAIN_HAVE_MPI
#include "worker/comm/mpi/mpi_communicator.h"
#include "worker/comm/mpi/mpi_runtime.h"
#include "worker/comm/mpi/mpi_store.h"
#endif

namespace dstrain::cli {
namespace {

constexpr const char* kWhat = "dstrain bench comm";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

// An integer variable in [lo, hi]; `fallback` when unset.
StatusOr<int> EnvInt(const char* name, int fallback, int lo, int hi) {
  const std::string v = Env(name);
  if (v.empty()) return fallback;
  const std::optional<int> out = ParseInteger<int>(v);
  if (!out || *out < lo || *out > hi) {
    return InvalidArgument("environment variable " + std::string(name) + "=" +
                           v + " is not an integer in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
  return *out;
}

struct RankPlace {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  bool one_host = true;  // every rank on this host
  bool mpi = false;      // MPI is initialised (finalize before exit)
  std::shared_ptr<rendezvous::KeyValueStore> store;
};

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Who this process is under an MPI launcher, and the store rank 0 serves.
StatusOr<RankPlace> PlaceFromMpi(std::chrono::milliseconds timeout) {
#ifdef DSTRAIN_HAVE_MPI
  DSTRAIN_ASSIGN_OR_RETURN(comm::mpi::MpiProcessInfo info,
                           comm::mpi::InitMpi());
  RankPlace p;
  p.mpi = true;
  p.rank = info.rank;
  p.size = info.size;
  p.local_rank = info.local_rank;
  p.one_host = info.local_size == info.size;
  comm::mpi::MpiStoreOptions o;
  o.host = Env("DSTRAIN_COMM_HOST");
  if (o.host.empty()) o.host = p.one_host ? "127.0.0.1" : Hostname();
  o.timeout = timeout;
  DSTRAIN_ASSIGN_OR_RETURN(std::shared_ptr<rendezvous::KeyValueStore> store,
                           comm::mpi::ConnectMpiStore(o));
  p.store = store;
  return p;
#else
  (void)timeout;
  return FailedPrecondition(
      "started by an MPI launcher, but this dstrain was built without MPI");
#endif
}

// Who this process is, from torchrun-style variables, and its store.
StatusOr<RankPlace> PlaceFromEnv(std::chrono::milliseconds timeout) {
  if (contract::DetectMpiLaunch().launched) return PlaceFromMpi(timeout);
  RankPlace p;
  DSTRAIN_ASSIGN_OR_RETURN(int size, EnvInt("WORLD_SIZE", 1, 1, 1 << 20));
  p.size = size;
  DSTRAIN_ASSIGN_OR_RETURN(int rank, EnvInt("RANK", 0, 0, p.size - 1));
  p.rank = rank;
  DSTRAIN_ASSIGN_OR_RETURN(int local_size,
                           EnvInt("LOCAL_WORLD_SIZE", p.size, 1, p.size));
  DSTRAIN_ASSIGN_OR_RETURN(
      int local_rank,
      EnvInt("LOCAL_RANK", p.rank % local_size, 0, local_size - 1));
  p.local_rank = local_rank;
  p.one_host = local_size == p.size;
  if (p.size == 1 && Env("MASTER_ADDR").empty()) {
    p.store = std::make_shared<rendezvous::InMemoryKvStore>();
    return p;
  }
  DSTRAIN_ASSIGN_OR_RETURN(int port, EnvInt("MASTER_PORT", 0, 1, 65535));
  if (Env("MASTER_ADDR").empty() || port == 0) {
    return InvalidArgument("WORLD_SIZE=" + std::to_string(p.size) +
                           " needs a rendezvous: set MASTER_ADDR and "
                           "MASTER_PORT, or use --ranks N");
  }
  rendezvous::TcpStoreOptions o;
  o.host = Env("MASTER_ADDR");
  o.port = port;
  o.is_server = p.rank == 0;
  o.world_size = p.size;
  o.timeout = timeout;
  DSTRAIN_ASSIGN_OR_RETURN(std::shared_ptr<rendezvous::KeyValueStore> store,
                           rendezvous::ConnectTcpStore(o));
  p.store = store;
  return p;
}

StatusOr<std::unique_ptr<comm::Communicator>> MakeCommunicator(
    const BenchCommSpec& spec, const RankPlace& p) {
  if (spec.backend == "gloo") {
    comm::GlooOptions o;
    o.host = Env("DSTRAIN_COMM_HOST");
    if (o.host.empty()) o.host = p.one_host ? "127.0.0.1" : Hostname();
    o.interface = Env("GLOO_SOCKET_IFNAME");
    o.timeout = spec.timeout;
    o.key_prefix = "bench/gloo";
    return comm::CreateGlooCommunicator(p.store, p.rank, p.size, o);
  }
  if (spec.backend == "nccl") {
    comm::NcclOptions o;
    o.device = p.local_rank;
    o.timeout = spec.timeout;
    o.key_prefix = "bench/nccl";
    return comm::CreateNcclCommunicator(p.store, p.rank, p.size, o);
  }
  if (!p.mpi) {
    return FailedPrecondition(
        "backend mpi runs only under an MPI launcher: `dstrain bench comm "
        "--ranks N --backend mpi` or `mpirun -np N dstrain bench comm "
        "--backend mpi`");
  }
#ifdef DSTRAIN_HAVE_MPI
  comm::mpi::MpiOptions o;
  o.timeout = spec.timeout;
  o.store = p.store;
  o.key_prefix = "bench/mpi";
  return comm::mpi::CreateMpiWorldCommunicator(o);
#else
  return FailedPrecondition("this dstrain was built without MPI");
#endif
}

// Ends MPI (when it was started) after the communicator is gone.
void FinishMpi(const RankPlace& p) {
#ifdef DSTRAIN_HAVE_MPI
  if (p.mpi) comm::mpi::FinalizeMpi();
#else
  (void)p;
#endif
}

int Fail(int rank, const Status& s, int code) {
  std::fprintf(stderr, "%s: rank %d: %s\n", kWhat, rank, s.message().c_str());
  std::fflush(stderr);
  return code;
}

// Makes the communicator, runs the sweep, prints on rank 0; the exit code.
int RunSweep(const BenchCommSpec& spec, const RankPlace& place) {
  const int rank = place.rank;
  StatusOr<std::unique_ptr<comm::Communicator>> comm =
      MakeCommunicator(spec, place);
  if (!comm.ok()) {
    return Fail(
        rank, comm.status(),
        comm.status().code() == StatusCode::kFailedPrecondition ? 2 : 1);
  }

  comm::bench::SweepOptions sweep;
  sweep.ops = spec.ops;
  sweep.sizes = spec.sizes;
  sweep.dtype = spec.dtype;
  sweep.policy = spec.policy;
  if (spec.backend == "nccl") {
    sweep.device = c10::Device(c10::kCUDA,
                               static_cast<c10::DeviceIndex>(place.local_rank));
  }
  const bool print_table = rank == 0 && !spec.json;
  if (print_table) {
    comm::bench::BenchReport about;
    about.backend = (*comm)->backend();
    about.world_size = (*comm)->size();
    about.dtype = comm::bench::BenchDtypeName(spec.dtype);
    about.device = sweep.device.str();
    about.policy = spec.policy;
    std::fputs(comm::bench::TableHeader(about).c_str(), stdout);
    std::fflush(stdout);
  }
  // Progress on a terminal's stderr only: stdout (the table, or JSON) stays
  // as a pipe or file would want it, and a log of stderr gets no redraws.
  const bool progress = rank == 0 && ::isatty(STDERR_FILENO) == 1;
  const auto started = std::chrono::steady_clock::now();
  auto clear_progress = [&] {
    if (!progress) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  };
  StatusOr<comm::bench::BenchReport> report = comm::bench::RunCommSweep(
      **comm, sweep,
      [&](const comm::bench::BenchRow& row) {
        if (!print_table) return;
        clear_progress();
        std::fputs(comm::bench::TableRow(row).c_str(), stdout);
        std::fflush(stdout);
      },
      [&](comm::bench::BenchOp op, std::int64_t bytes, int row, int rows) {
        if (!progress) return;
        const double elapsed = std::chrono::duration<double>(
                                   std::chrono::steady_clock::now() - started)
                                   .count();
        std::fprintf(
            stderr, "\r\033[K%s",
            comm::bench::ProgressLine(row, rows, op, bytes, elapsed).c_str());
        std::fflush(stderr);
      });
  clear_progress();
  if (!report.ok()) return Fail(rank, report.status(), 1);
  if (rank == 0) {
    std::fputs(spec.json ? (comm::bench::ReportJson(*report) + "\n").c_str()
                         : comm::bench::TableFooter(*report).c_str(),
               stdout);
    std::fflush(stdout);
  }
  int wrong = 0;
  for (const comm::bench::BenchRow& row : report->rows) wrong += !row.correct;
  if (wrong > 0) {
    if (rank == 0) {
      std::fprintf(stderr, "%s: %d row%s gave wrong results\n", kWhat, wrong,
                   wrong == 1 ? "" : "s");
    }
    return 1;
  }
  return 0;
}

}  // namespace

int RunBenchCommRank(const BenchCommSpec& spec) {
  // Like torchrun's default for several processes per host: the pattern
  // and check tensor ops stay off the cores the collectives use.
  at::set_num_threads(1);
  StatusOr<RankPlace> place = PlaceFromEnv(spec.timeout);
  if (!place.ok()) {
    return Fail(0, place.status(),
                place.status().code() == StatusCode::kInvalidArgument ? 2 : 1);
  }
  const int code = RunSweep(spec, *place);
  FinishMpi(*place);
  return code;
}

}  // namespace dstrain::cli
