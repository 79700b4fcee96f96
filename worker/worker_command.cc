#include "worker/worker_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/config/job_config_loader.h"
#include "common/cpu_affinity.h"
#include "worker/comm/backend_choice.h"
#include "worker/comm/mpi/mpi_launch_env.h"
#include "worker/engine/train.h"
#include "worker/metrics/fd_line_writer.h"
#include "worker/metrics/metrics_json.h"
#include "worker/rendezvous/in_memory_kv_store.h"
#include "worker/rendezvous/tcp_kv_store.h"
#ifdef DSTRAIN_HAVE_MPI
#include "worker/comm/mpi/mpi_runtime.h"
#include "worker/comm/mpi/mpi_store.h"
#endif

namespace dstrain {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitInvalid = 2;

#ifdef DSTRAIN_HAVE_MPI
constexpr bool kBuiltWithMpi = true;
#else
constexpr bool kBuiltWithMpi = false;
#endif

// Reads an integer environment variable in [lo, hi]; absent → fallback.
StatusOr<int> EnvInt(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  int out = 0;
  const char* end = v + std::char_traits<char>::length(v);
  const auto [ptr, ec] = std::from_chars(v, end, out);
  if (ec != std::errc() || ptr != end || out < lo || out > hi) {
    return InvalidArgument("environment variable " + std::string(name) + "=" +
                           v + " is not an integer in [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]");
  }
  return out;
}

std::string EnvStr(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Everything but who the process is: labels and where collectives listen.
Status FillJobAndHost(engine::RankContext& ctx) {
  StatusOr<int> attempt = EnvInt("DSTRAIN_ATTEMPT", 0, 0, 1 << 30);
  if (!attempt.ok()) return attempt.status();
  ctx.attempt = *attempt;
  ctx.job_id = EnvStr("DSTRAIN_JOB_ID", "local");
  ctx.hostname = Hostname();
  const bool one_host = ctx.local_world_size == ctx.world_size;
  ctx.comm_host =
      EnvStr("DSTRAIN_COMM_HOST", one_host ? "127.0.0.1" : ctx.hostname);
  ctx.comm_interface = EnvStr("GLOO_SOCKET_IFNAME");
  ctx.sub_communicators = EnvStr("DSTRAIN_SUBCOMMS");
  ctx.grad_allreduce = EnvStr("DSTRAIN_GRAD_ALLREDUCE");
  ctx.run_dir = EnvStr("DSTRAIN_RUN_DIR");
  const std::string resume = EnvStr("DSTRAIN_RESUME", "0");
  if (resume != "0" && resume != "1") {
    return InvalidArgument("environment variable DSTRAIN_RESUME=" + resume +
                           " is not 0 or 1");
  }
  ctx.resume = resume == "1";
  return Status::Ok();
}

StatusOr<engine::RankContext> ContextFromEnv() {
  engine::RankContext ctx;
  StatusOr<int> world = EnvInt("WORLD_SIZE", 1, 1, 1 << 20);
  if (!world.ok()) return world.status();
  ctx.world_size = *world;
  StatusOr<int> rank = EnvInt("RANK", 0, 0, ctx.world_size - 1);
  if (!rank.ok()) return rank.status();
  ctx.rank = *rank;
  StatusOr<int> local_world =
      EnvInt("LOCAL_WORLD_SIZE", ctx.world_size, 1, ctx.world_size);
  if (!local_world.ok()) return local_world.status();
  ctx.local_world_size = *local_world;
  StatusOr<int> local_rank =
      EnvInt("LOCAL_RANK", ctx.rank % ctx.local_world_size, 0,
             ctx.local_world_size - 1);
  if (!local_rank.ok()) return local_rank.status();
  ctx.local_rank = *local_rank;
  DSTRAIN_RETURN_IF_ERROR(FillJobAndHost(ctx));
  return ctx;
}

StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> PickStore(
    std::shared_ptr<rendezvous::KeyValueStore> given,
    const engine::RankContext& ctx, const config::JobConfig& job) {
  if (given != nullptr) return given;
  if (ctx.world_size == 1) {
    return std::shared_ptr<rendezvous::KeyValueStore>(
        std::make_shared<rendezvous::InMemoryKvStore>());
  }
  const std::string addr = EnvStr("MASTER_ADDR");
  if (addr.empty() || EnvStr("MASTER_PORT").empty()) {
    return InvalidArgument(
        "WORLD_SIZE=" + std::to_string(ctx.world_size) +
        " needs a rendezvous: set MASTER_ADDR and MASTER_PORT, or start the "
        "workers with `dstrain launch` or mpirun");
  }
  StatusOr<int> port = EnvInt("MASTER_PORT", 0, 1, 65535);
  if (!port.ok()) return port.status();
  rendezvous::TcpStoreOptions o;
  o.host = addr;
  o.port = *port;
  o.is_server = ctx.rank == 0;
  o.world_size = ctx.world_size;
  o.timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(job.fault_tolerance.hang_timeout_s * 1000));
  return rendezvous::ConnectTcpStore(o);
}

void Fail(const Status& s) {
  std::fprintf(stderr, "dstrain worker: %s\n", s.message().c_str());
  std::fflush(stderr);
}

// One destination of the metrics lines: the inherited fd, or a file of
// our own (closed at the end).
struct MetricsSink {
  std::string name;  // for error messages
  std::optional<metrics::FdLineWriter> writer;
  int owned_fd = -1;
  bool broken = false;  // the reader is gone or the disk is full

  void Write(const std::string& line) {
    if (broken) return;
    const Status s = writer->Write(line);
    if (!s.ok()) {
      broken = true;  // keep training; say so once
      std::fprintf(stderr, "dstrain worker: %s: %s\n", name.c_str(),
                   s.message().c_str());
    }
  }
  ~MetricsSink() {
    if (owned_fd >= 0) ::close(owned_fd);
  }
};

// Opens DSTRAIN_METRICS_FD and --metrics-file; INVALID_ARGUMENT names the
// variable or the flag.
Status OpenMetricsSinks(const WorkerCommandOptions& options, int rank,
                        std::vector<std::unique_ptr<MetricsSink>>& sinks,
                        bool& has_fd) {
  has_fd = false;
  if (!EnvStr("DSTRAIN_METRICS_FD").empty()) {
    StatusOr<int> fd = EnvInt("DSTRAIN_METRICS_FD", -1, 0, 1 << 20);
    if (!fd.ok()) return fd.status();
    StatusOr<metrics::FdLineWriter> w = metrics::FdLineWriter::Open(*fd);
    if (!w.ok()) return w.status();
    auto sink = std::make_unique<MetricsSink>();
    sink->name = "metrics fd " + std::to_string(*fd);
    sink->writer.emplace(*w);
    sinks.push_back(std::move(sink));
    has_fd = true;
  }
  if (!options.metrics_file.empty()) {
    const std::string path = MetricsFileForRank(options.metrics_file, rank);
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return InvalidArgument("--metrics-file " + path +
                             ": cannot open: " + std::strerror(errno));
    }
    auto sink = std::make_unique<MetricsSink>();
    sink->name = path;
    sink->owned_fd = fd;
    StatusOr<metrics::FdLineWriter> w = metrics::FdLineWriter::Open(fd);
    if (!w.ok()) return w.status();
    sink->writer.emplace(*w);
    sinks.push_back(std::move(sink));
  }
  return Status::Ok();
}

// Trains one rank whose identity and store are settled; returns the exit
// code.
int Train(const WorkerCommandOptions& options, const config::JobConfig& job,
          const engine::RankContext& ctx,
          std::shared_ptr<rendezvous::KeyValueStore> kv) {
  std::vector<std::unique_ptr<MetricsSink>> sinks;
  bool has_fd = false;
  const Status opened = OpenMetricsSinks(options, ctx.rank, sinks, has_fd);
  if (!opened.ok()) {
    Fail(opened);
    return kExitInvalid;
  }

  const bool leader = ctx.rank == 0;
  auto on_setup = [&](const engine::TrainSetup& s) {
    if (!leader) return;
    std::printf(
        "dstrain worker: job %s, %d rank%s, backend %s, gpt %d layers "
        "d_model %d, %lld params, %lld tokens/step, data %lld bytes in %d "
        "file%s, ready in %.1f s\n",
        job.name.c_str(), ctx.world_size, ctx.world_size == 1 ? "" : "s",
        s.backend.c_str(), job.model.layers, job.model.d_model,
        static_cast<long long>(s.param_count),
        static_cast<long long>(s.tokens_per_step),
        static_cast<long long>(s.dataset_bytes), s.dataset_files,
        s.dataset_files == 1 ? "" : "s", s.setup_s);
    std::fflush(stdout);
  };
  auto on_step = [&](const engine::StepReport& r) {
    if (!sinks.empty()) {
      const std::string line = metrics::StepJsonLine(ctx, r);
      for (auto& sink : sinks) sink->Write(line);
    }
    if (leader && !has_fd) {
      std::printf(
          "step %d/%d loss %.4f lr %.3g grad_norm %.3f %.3f s/step (comm "
          "%.3f) %.0f tok/s\n",
          r.step, r.total_steps, r.loss, r.lr, r.grad_norm, r.step_time_s,
          r.comm_time_s, r.tokens_per_s);
      std::fflush(stdout);
    }
  };

  // The agent bound this rank (binding.numa): say where it runs, as the
  // kernel has it, so the binding can be seen to hold.
  const std::string numa_node = EnvStr("DSTRAIN_NUMA_NODE");
  if (!numa_node.empty()) {
    std::printf("dstrain worker: rank %d bound to numa node %s, CPUs %s\n",
                ctx.rank, numa_node.c_str(),
                FormatCpuList(ThisProcessCpus()).c_str());
    std::fflush(stdout);
  }

  StatusOr<engine::TrainResult> result =
      engine::RunTraining(job, ctx, std::move(kv), on_step, on_setup);
  if (!result.ok()) {
    Fail(result.status());
    return kExitFailure;
  }
  if (!sinks.empty()) {
    const std::string line = metrics::ResultJsonLine(ctx, *result);
    for (auto& sink : sinks) sink->Write(line);
  }
  if (leader) {
    std::printf("dstrain worker: done, %d steps, final loss %.4f, params %s\n",
                result->steps, result->final_loss,
                result->param_digest.c_str());
    std::fflush(stdout);
  }
  return 0;
}

#ifdef DSTRAIN_HAVE_MPI
// The MPI launch mode (worker_command.h): identity from MPI, the store
// from rank 0 via MPI_Bcast.
int RunUnderMpi(const WorkerCommandOptions& options,
                const config::JobConfig& job,
                const comm::mpi::MpiLaunchEnv& launch) {
  namespace mpi = comm::mpi;
  StatusOr<mpi::MpiProcessInfo> info = mpi::InitMpi();
  if (!info.ok()) {
    Fail(Status(info.status().code(),
                "started by " + launch.launcher +
                    ", but MPI did not start: " + info.status().message()));
    return kExitFailure;
  }
  // A failing rank takes the others down at once instead of leaving them
  // to time out in a collective.
  auto finish = [&](int code) {
    std::fflush(nullptr);
    if (code != 0 && info->size > 1) mpi::AbortMpi(code);
    mpi::FinalizeMpi();
    return code;
  };
  engine::RankContext ctx;
  ctx.rank = info->rank;
  ctx.world_size = info->size;
  ctx.local_rank = info->local_rank;
  ctx.local_world_size = info->local_size;
  const Status filled = FillJobAndHost(ctx);
  if (!filled.ok()) {
    Fail(filled);
    return finish(kExitInvalid);
  }
  const Status device = engine::CheckDeviceVisible(job, ctx);
  if (!device.ok()) {
    Fail(device);
    return finish(kExitInvalid);
  }
  if (ctx.rank == 0) {
    std::printf(
        "dstrain worker: MPI launch by %s, %d rank%s (%d on this node), %s\n",
        launch.launcher.c_str(), ctx.world_size, ctx.world_size == 1 ? "" : "s",
        ctx.local_world_size, info->thread_level_name.c_str());
    std::fflush(stdout);
  }
  std::shared_ptr<rendezvous::KeyValueStore> kv;
  if (ctx.world_size == 1) {
    kv = std::make_shared<rendezvous::InMemoryKvStore>();
  } else {
    mpi::MpiStoreOptions o;
    o.host = ctx.comm_host;
    o.timeout = std::chrono::milliseconds(
        static_cast<std::int64_t>(job.fault_tolerance.hang_timeout_s * 1000));
    StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> store =
        mpi::ConnectMpiStore(o);
    if (!store.ok()) {
      Fail(store.status());
      return finish(kExitFailure);
    }
    kv = *store;
  }
  const int code = Train(options, job, ctx, kv);
  // The store outlives MPI_Finalize's barrier: rank 0 serves it, and no
  // peer may still be reading it.
  const int out = finish(code);
  kv.reset();
  return out;
}
#endif

}  // namespace

std::string MetricsFileForRank(const std::string& path, int rank) {
  static const std::string kRank = "{rank}";
  const std::string n = std::to_string(rank);
  std::string out = path;
  bool replaced = false;
  for (std::size_t at = out.find(kRank); at != std::string::npos;
       at = out.find(kRank, at + n.size())) {
    out.replace(at, kRank.size(), n);
    replaced = true;
  }
  return replaced ? out : out + ".rank" + n;
}

int RunWorkerCommand(const WorkerCommandOptions& options,
                     std::shared_ptr<rendezvous::KeyValueStore> store) {
  const comm::mpi::MpiLaunchEnv launch = comm::mpi::DetectMpiLaunch();
  const bool has_coordinator =
      store != nullptr || !EnvStr("DSTRAIN_COORDINATOR").empty();
  const bool mpi_mode = launch.launched && !has_coordinator;
  // Under MPI every rank reads the same file: one copy of an error is
  // enough.
  const bool speaks = !mpi_mode || launch.rank.value_or(0) == 0;

  StatusOr<config::JobConfig> job =
      config::LoadJobFile(options.job_path, options.overrides);
  if (!job.ok()) {
    if (speaks) Fail(job.status());
    return kExitInvalid;
  }
  comm::LaunchFacts facts;
  facts.device = job->device;
  facts.launched_by_mpi = launch.launched;
  facts.has_coordinator = has_coordinator;
  job->backend = comm::ChooseBackend(job->backend, facts);
  const Status runnable =
      comm::CheckBackendRunnable(job->backend, facts, kBuiltWithMpi);
  if (!runnable.ok()) {
    if (speaks) Fail(runnable);
    return kExitInvalid;
  }

  if (mpi_mode) {
#ifdef DSTRAIN_HAVE_MPI
    return RunUnderMpi(options, *job, launch);
#else
    if (speaks) {
      Fail(InvalidArgument(
          "started by " + launch.launcher +
          ", but this build has no MPI (install libopenmpi-dev and rebuild, "
          "or start the workers with `dstrain launch`)"));
    }
    return kExitInvalid;
#endif
  }

  StatusOr<engine::RankContext> ctx = ContextFromEnv();
  if (!ctx.ok()) {
    Fail(ctx.status());
    return kExitInvalid;
  }
  // A GPU job where this rank has no GPU stops before any rendezvous.
  const Status device = engine::CheckDeviceVisible(*job, *ctx);
  if (!device.ok()) {
    Fail(device);
    return kExitInvalid;
  }
  StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> kv =
      PickStore(std::move(store), *ctx, *job);
  if (!kv.ok()) {
    Fail(kv.status());
    return kv.status().code() == StatusCode::kInvalidArgument ? kExitInvalid
                                                              : kExitFailure;
  }
  return Train(options, *job, *ctx, *kv);
}

}  // namespace dstrain
