#include "worker/worker_command.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include "common/config/job_config_loader.h"
#include "common/contract/checkpoint_dir.h"
#include "common/contract/exit_codes.h"
#include "common/contract/metrics_lines.h"
#include "common/contract/mpi_launch_env.h"
#include "common/contract/worker_env.h"
#include "common/cpu_affinity.h"
#include "common/fd_line_writer.h"
#include "common/log.h"
#include "common/read_file.h"
#include "common/rendezvous/in_memory_kv_store.h"
#include "common/strings.h"
#include "common/unique_fd.h"
#include "worker/comm/backend_choice.h"
#include "worker/engine/trainer.h"
#include "worker/fault_injection.h"
#include "worker/rendezvous/tcp_kv_store.h"
#include "worker/setup_line.h"
#ifdef DSTRAIN_HAVE_MPI
#include "worker/comm/mpi/mpi_runtime.h"
#include "worker/comm/mpi/mpi_store.h"
#endif

namespace dstrain {
namespace {

using worker::InjectedFaults;
using worker::kFaultInjectEnv;
using worker::ParseInjectedFaults;

// The preemption signal this process got (SIGTERM or SIGUSR1), 0 before
// one: set by the handler, read by the training thread at each step.
std::atomic<int> g_stop_signal{0};

void OnStopSignal(int sig) { g_stop_signal.store(sig); }

// SIGTERM and SIGUSR1 ask the run to stop after its current step with a
// checkpoint (contract::kExitRequeue); a second one changes nothing, and
// SIGKILL (the launcher's escalation after its grace) still ends it.
void CatchStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigset_t mine;
  sigemptyset(&mine);
  for (int sig : {SIGTERM, SIGUSR1}) {
    ::sigaction(sig, &sa, nullptr);
    sigaddset(&mine, sig);
  }
  ::pthread_sigmask(SIG_UNBLOCK, &mine, nullptr);
}

constexpr int kExitFailure = 1;
constexpr int kExitInvalid = 2;

#ifdef DSTRAIN_HAVE_MPI
constexpr bool kBuiltWithMpi = true;
#else
constexpr bool kBuiltWithMpi = false;
#endif

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// The rank's context from what its launcher said; `env`'s identity fields
// are replaced by MPI's under an MPI launch.
engine::RankContext ContextFrom(const contract::WorkerEnv& env) {
  engine::RankContext ctx;
  ctx.rank = env.rank;
  ctx.world_size = env.world_size;
  ctx.local_rank = env.local_rank;
  ctx.local_world_size = env.local_world_size;
  ctx.attempt = env.attempt;
  ctx.job_id = env.job_id;
  ctx.hostname = env.node_name.empty() ? Hostname() : env.node_name;
  ctx.comm_interface = env.comm_interface;
  ctx.sub_communicators = env.sub_communicators;
  ctx.grad_routes = env.grad_routes;
  ctx.run_dir = env.run_dir;
  ctx.resume = env.resume;
  ctx.progress_file = env.progress_file;
  return ctx;
}

// Where collectives listen unless the launcher said: loopback when every
// rank is on this host, else this host's name.
void PickCommHost(const contract::WorkerEnv& env, engine::RankContext& ctx) {
  const bool one_host = ctx.local_world_size == ctx.world_size;
  ctx.comm_host = !env.comm_host.empty() ? env.comm_host
                  : one_host             ? "127.0.0.1"
                                         : ctx.hostname;
}

StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> PickStore(
    std::shared_ptr<rendezvous::KeyValueStore> given,
    const contract::WorkerEnv& env, const engine::RankContext& ctx,
    const config::JobConfig& job) {
  if (given != nullptr) return given;
  if (ctx.world_size == 1) {
    return std::shared_ptr<rendezvous::KeyValueStore>(
        std::make_shared<rendezvous::InMemoryKvStore>());
  }
  if (env.master_addr.empty() || env.master_port == 0) {
    return InvalidArgument(
        std::string(contract::kWorldSize) + "=" +
        std::to_string(ctx.world_size) + " needs a rendezvous: set " +
        contract::kMasterAddr + " and " + contract::kMasterPort +
        ", or start the workers with `dstrain launch` or mpirun");
  }
  rendezvous::TcpStoreOptions o;
  o.host = env.master_addr;
  o.port = env.master_port;
  o.is_server = ctx.rank == 0;
  o.world_size = ctx.world_size;
  o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(
      job.fault_tolerance.collective_timeout_s() * 1000));
  return rendezvous::ConnectTcpStore(o);
}

void Fail(const Status& s) {
  log::PrintError("dstrain worker: " + s.message());
}

// One destination of the metrics lines: the inherited fd, or a file of
// our own (closed at the end).
struct MetricsSink {
  std::string name;  // for error messages
  std::optional<FdLineWriter> writer;
  UniqueFd owned_fd;    // a file of our own; the inherited fd is not ours
  bool broken = false;  // the reader is gone or the disk is full

  void Write(const std::string& line) {
    if (broken) return;
    const Status s = writer->Write(line);
    if (!s.ok()) {
      broken = true;  // keep training; say so once
      log::PrintError("dstrain worker: " + name + ": " + s.message());
    }
  }
};

// Opens the metrics fd and --metrics-file; INVALID_ARGUMENT names the
// variable or the flag.
Status OpenMetricsSinks(const WorkerCommandOptions& options,
                        const contract::WorkerEnv& env, int rank,
                        std::vector<std::unique_ptr<MetricsSink>>& sinks,
                        bool& has_fd) {
  has_fd = false;
  if (env.metrics_fd >= 0) {
    DSTRAIN_ASSIGN_OR_RETURN(FdLineWriter w,
                             FdLineWriter::Open(env.metrics_fd));
    auto sink = std::make_unique<MetricsSink>();
    sink->name = "metrics fd " + std::to_string(env.metrics_fd);
    sink->writer.emplace(w);
    sinks.push_back(std::move(sink));
    has_fd = true;
  }
  if (!options.metrics_file.empty()) {
    const std::string path = MetricsFileForRank(options.metrics_file, rank);
    UniqueFd fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) {
      return InvalidArgument("--metrics-file " + path +
                             ": cannot open: " + std::strerror(errno));
    }
    auto sink = std::make_unique<MetricsSink>();
    sink->name = path;
    DSTRAIN_ASSIGN_OR_RETURN(FdLineWriter w, FdLineWriter::Open(fd.get()));
    sink->writer.emplace(w);
    sink->owned_fd = std::move(fd);
    sinks.push_back(std::move(sink));
  }
  return Status::Ok();
}

// The job file, or the agent's copy of it read as if it were at its origin.
StatusOr<config::JobConfig> LoadJob(const WorkerCommandOptions& options) {
  if (options.job_origin.empty()) {
    return config::LoadJobFile(options.job_path, options.overrides);
  }
  StatusOr<std::string> text =
      ReadConfigFile(options.job_path, kMaxConfigFileRead, "job file");
  if (!text.ok()) return InvalidArgument(text.status().message());
  return config::ParseJobYaml(*text, options.job_origin, options.overrides);
}

// What the worker does with the trainer's observations: rank 0 says what it
// set up and (without a metrics fd) shows a line per step; every rank
// writes its metrics lines.
class WorkerObserver : public engine::TrainObserver {
 public:
  WorkerObserver(const config::JobConfig& job, const engine::RankContext& ctx,
                 std::vector<std::unique_ptr<MetricsSink>>& sinks, bool has_fd,
                 InjectedFaults faults)
      : job_(job),
        ctx_(ctx),
        sinks_(sinks),
        has_fd_(has_fd),
        faults_(std::move(faults)),
        delay_s_(faults_.DelayFor(ctx.rank, ctx.attempt)) {
    labels_.job_id = ctx.job_id;
    labels_.rank = ctx.rank;
    labels_.attempt = ctx.attempt;
  }

  void OnSetup(const engine::TrainSetup& s) override {
    if (ctx_.rank != 0) return;
    log::Print(
        worker::SetupLine(job_, ctx_.world_size, s,
                          contract::ResolveCheckpointDir(job_, ctx_.run_dir)));
  }

  bool StopRequested() override { return g_stop_signal.load() != 0; }

  void BeforeStep(int step) override {
    (void)step;
    if (delay_s_ > 0) {
      std::this_thread::sleep_for(std::chrono::duration<double>(delay_s_));
    }
  }

  void OnStep(const engine::StepReport& r) override {
    if (!sinks_.empty()) {
      const std::string line = contract::StepLine(labels_, r);
      for (auto& sink : sinks_) sink->Write(line);
    }
    if (std::optional<int> code =
            faults_.ExitAfter(ctx_.rank, r.step, ctx_.attempt)) {
      log::PrintError(
          StrFormat("dstrain worker: injected failure after step %d (%s)",
                    r.step, kFaultInjectEnv));
      std::_Exit(*code);
    }
    const int every = job_.train.log_every;
    if ((ctx_.rank == 0 && !has_fd_) || (every > 0 && r.step % every == 0)) {
      log::Print(StrFormat(
          "step %d/%d loss %.4f lr %.3g grad_norm %.3f %.3f s/step (comm "
          "%.3f) %.0f tok/s",
          r.step, r.total_steps, r.loss, r.lr, r.grad_norm, r.step_time_s,
          r.comm_time_s, r.tokens_per_s));
    }
  }

  void OnResult(const engine::TrainResult& result) {
    if (!sinks_.empty()) {
      contract::RankResult r;
      r.steps = result.steps;
      r.final_loss = result.final_loss;
      r.param_digest = result.param_digest;
      r.param_count = result.param_count;
      const std::string line = contract::ResultLine(labels_, r);
      for (auto& sink : sinks_) sink->Write(line);
    }
    if (ctx_.rank == 0) {
      log::Print(StrFormat(
          "dstrain worker: done, %d steps, final loss %.4f, params %s",
          result.steps, result.final_loss, result.param_digest.c_str()));
    }
  }

 private:
  const config::JobConfig& job_;
  const engine::RankContext& ctx_;
  std::vector<std::unique_ptr<MetricsSink>>& sinks_;
  const bool has_fd_;
  const InjectedFaults faults_;
  const double delay_s_;  // slept inside each step (DSTRAIN_FAULT_INJECT)
  contract::LineLabels labels_;
};

// Trains one rank whose identity and store are settled; returns the exit
// code.
int Train(const WorkerCommandOptions& options, const config::JobConfig& job,
          const contract::WorkerEnv& env, const engine::RankContext& ctx,
          std::shared_ptr<rendezvous::KeyValueStore> kv) {
  std::vector<std::unique_ptr<MetricsSink>> sinks;
  bool has_fd = false;
  const Status opened = OpenMetricsSinks(options, env, ctx.rank, sinks, has_fd);
  if (!opened.ok()) {
    Fail(opened);
    return kExitInvalid;
  }

  // The agent bound this rank (binding.numa): say where it runs, as the
  // kernel has it, so the binding can be seen to hold.
  if (env.numa_node >= 0) {
    log::Print(StrFormat(
        "dstrain worker: rank %d bound to numa node %d, CPUs %s", ctx.rank,
        env.numa_node, FormatCpuList(ThisProcessCpus()).c_str()));
  }

  const char* inject = std::getenv(kFaultInjectEnv);
  StatusOr<InjectedFaults> faults =
      ParseInjectedFaults(inject == nullptr ? "" : inject);
  if (!faults.ok()) {
    Fail(faults.status());
    return kExitInvalid;
  }
  WorkerObserver observer(job, ctx, sinks, has_fd, *faults);
  CatchStopSignals();
  StatusOr<engine::TrainResult> result =
      [&]() -> StatusOr<engine::TrainResult> {
    DSTRAIN_ASSIGN_OR_RETURN(
        std::unique_ptr<engine::Trainer> trainer,
        engine::Trainer::Create(job, ctx, std::move(kv), &observer));
    return trainer->Run();
  }();
  if (!result.ok()) {
    Fail(result.status());
    return kExitFailure;
  }
  observer.OnResult(*result);
  if (result->stopped) {
    const int sig = g_stop_signal.load();
    log::PrintError(StrFormat(
        "dstrain worker: rank %d stopped after step %d on request (%s) with "
        "a checkpoint of it; exit %d: requeue, --resume goes on from step %d",
        ctx.rank, result->steps,
        sig == SIGUSR1   ? "SIGUSR1"
        : sig == SIGTERM ? "SIGTERM"
                         : "another rank's signal",
        contract::kExitRequeue, result->steps + 1));
    return contract::kExitRequeue;
  }
  return 0;
}

#ifdef DSTRAIN_HAVE_MPI
// The MPI launch mode (worker_command.h): identity from MPI, the store
// from rank 0 via MPI_Bcast.
int RunUnderMpi(const WorkerCommandOptions& options,
                const config::JobConfig& job,
                const contract::MpiLaunchEnv& launch,
                const StatusOr<contract::WorkerEnv>& env) {
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
  if (!env.ok()) {
    Fail(env.status());
    return finish(kExitInvalid);
  }
  engine::RankContext ctx = ContextFrom(*env);
  ctx.rank = info->rank;
  ctx.world_size = info->size;
  ctx.local_rank = info->local_rank;
  ctx.local_world_size = info->local_size;
  PickCommHost(*env, ctx);
  const Status device = engine::CheckDeviceVisible(job, ctx);
  if (!device.ok()) {
    Fail(device);
    return finish(kExitInvalid);
  }
  if (ctx.rank == 0) {
    log::Print(StrFormat(
        "dstrain worker: MPI launch by %s, %d rank%s (%d on this node), %s",
        launch.launcher.c_str(), ctx.world_size, ctx.world_size == 1 ? "" : "s",
        ctx.local_world_size, info->thread_level_name.c_str()));
  }
  std::shared_ptr<rendezvous::KeyValueStore> kv;
  if (ctx.world_size == 1) {
    kv = std::make_shared<rendezvous::InMemoryKvStore>();
  } else {
    mpi::MpiStoreOptions o;
    o.host = ctx.comm_host;
    o.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(
        job.fault_tolerance.collective_timeout_s() * 1000));
    StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> store =
        mpi::ConnectMpiStore(o);
    if (!store.ok()) {
      Fail(store.status());
      return finish(kExitFailure);
    }
    kv = *store;
  }
  const int code = Train(options, job, *env, ctx, kv);
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
  const contract::MpiLaunchEnv launch = contract::DetectMpiLaunch();
  const contract::EnvLookup process_env = contract::ProcessEnvironment();
  const bool has_coordinator =
      store != nullptr ||
      process_env(contract::kCoordinator).value_or("") != "";
  const bool mpi_mode = launch.launched && !has_coordinator;
  // Under MPI the launcher decides who each process is: RANK, WORLD_SIZE,
  // LOCAL_* and MASTER_* are not read.
  const StatusOr<contract::WorkerEnv> env = contract::DecodeWorkerEnv(
      mpi_mode ? contract::EnvLookup(
                     [&](const char* name) -> std::optional<std::string> {
                       for (const char* identity :
                            {contract::kRank, contract::kWorldSize,
                             contract::kLocalRank, contract::kLocalWorldSize,
                             contract::kMasterAddr, contract::kMasterPort}) {
                         if (std::string_view(name) == identity)
                           return std::nullopt;
                       }
                       return process_env(name);
                     })
               : process_env);
  // Under MPI every rank reads the same file: one copy of an error is
  // enough.
  const bool speaks = !mpi_mode || launch.rank.value_or(0) == 0;

  StatusOr<config::JobConfig> job = LoadJob(options);
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
    return RunUnderMpi(options, *job, launch, env);
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

  if (!env.ok()) {
    Fail(env.status());
    return kExitInvalid;
  }
  engine::RankContext ctx = ContextFrom(*env);
  PickCommHost(*env, ctx);
  // A GPU job where this rank has no GPU stops before any rendezvous.
  const Status device = engine::CheckDeviceVisible(*job, ctx);
  if (!device.ok()) {
    Fail(device);
    return kExitInvalid;
  }
  StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> kv =
      PickStore(std::move(store), *env, ctx, *job);
  if (!kv.ok()) {
    Fail(kv.status());
    return kv.status().code() == StatusCode::kInvalidArgument ? kExitInvalid
                                                              : kExitFailure;
  }
  return Train(options, *job, *env, ctx, *kv);
}

}  // namespace dstrain
