#include "worker/worker_command.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "common/config/job_config_loader.h"
#include "worker/engine/train.h"
#include "worker/metrics/fd_line_writer.h"
#include "worker/metrics/metrics_json.h"
#include "worker/rendezvous/in_memory_kv_store.h"
#include "worker/rendezvous/tcp_kv_store.h"

namespace dstrain {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitInvalid = 2;

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
  StatusOr<int> attempt = EnvInt("DSTRAIN_ATTEMPT", 0, 0, 1 << 30);
  if (!attempt.ok()) return attempt.status();
  ctx.attempt = *attempt;
  ctx.job_id = EnvStr("DSTRAIN_JOB_ID", "local");
  ctx.hostname = Hostname();
  const bool one_host = ctx.local_world_size == ctx.world_size;
  ctx.comm_host =
      EnvStr("DSTRAIN_COMM_HOST", one_host ? "127.0.0.1" : ctx.hostname);
  ctx.comm_interface = EnvStr("GLOO_SOCKET_IFNAME");
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
        "workers with `dstrain launch`");
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

}  // namespace

int RunWorkerCommand(const WorkerCommandOptions& options,
                     std::shared_ptr<rendezvous::KeyValueStore> store) {
  StatusOr<engine::RankContext> ctx_or = ContextFromEnv();
  if (!ctx_or.ok()) {
    Fail(ctx_or.status());
    return kExitInvalid;
  }
  const engine::RankContext& ctx = *ctx_or;

  StatusOr<config::JobConfig> job =
      config::LoadJobFile(options.job_path, options.overrides);
  if (!job.ok()) {
    Fail(job.status());
    return kExitInvalid;
  }

  std::optional<metrics::FdLineWriter> metrics_out;
  const std::string fd_env = EnvStr("DSTRAIN_METRICS_FD");
  if (!fd_env.empty()) {
    StatusOr<int> fd = EnvInt("DSTRAIN_METRICS_FD", -1, 0, 1 << 20);
    if (!fd.ok()) {
      Fail(fd.status());
      return kExitInvalid;
    }
    StatusOr<metrics::FdLineWriter> w = metrics::FdLineWriter::Open(*fd);
    if (!w.ok()) {
      Fail(w.status());
      return kExitInvalid;
    }
    metrics_out.emplace(*w);
  }

  StatusOr<std::shared_ptr<rendezvous::KeyValueStore>> kv =
      PickStore(std::move(store), ctx, *job);
  if (!kv.ok()) {
    Fail(kv.status());
    return kv.status().code() == StatusCode::kInvalidArgument ? kExitInvalid
                                                              : kExitFailure;
  }

  const bool leader = ctx.rank == 0;
  bool metrics_broken = false;
  auto on_setup = [&](const engine::TrainSetup& s) {
    if (!leader) return;
    std::printf(
        "dstrain worker: job %s, %d rank%s, backend %s, gpt %d layers "
        "d_model %d, %lld params, %lld tokens/step, data %lld bytes in %d "
        "file%s, ready in %.1f s\n",
        job->name.c_str(), ctx.world_size, ctx.world_size == 1 ? "" : "s",
        s.backend.c_str(), job->model.layers, job->model.d_model,
        static_cast<long long>(s.param_count),
        static_cast<long long>(s.tokens_per_step),
        static_cast<long long>(s.dataset_bytes), s.dataset_files,
        s.dataset_files == 1 ? "" : "s", s.setup_s);
    std::fflush(stdout);
  };
  auto on_step = [&](const engine::StepReport& r) {
    if (metrics_out && !metrics_broken) {
      const Status s = metrics_out->Write(metrics::StepJsonLine(ctx, r));
      if (!s.ok()) {
        metrics_broken = true;  // the reader is gone; keep training
        std::fprintf(stderr, "dstrain worker: %s\n", s.message().c_str());
      }
    }
    if (leader && !metrics_out) {
      std::printf(
          "step %d/%d loss %.4f lr %.3g grad_norm %.3f %.3f s/step (comm "
          "%.3f) %.0f tok/s\n",
          r.step, r.total_steps, r.loss, r.lr, r.grad_norm, r.step_time_s,
          r.comm_time_s, r.tokens_per_s);
      std::fflush(stdout);
    }
  };

  StatusOr<engine::TrainResult> result =
      engine::RunTraining(*job, ctx, *kv, on_step, on_setup);
  if (!result.ok()) {
    Fail(result.status());
    return kExitFailure;
  }
  if (metrics_out && !metrics_broken) {
    const Status s = metrics_out->Write(metrics::ResultJsonLine(ctx, *result));
    if (!s.ok())
      std::fprintf(stderr, "dstrain worker: %s\n", s.message().c_str());
  }
  if (leader) {
    std::printf("dstrain worker: done, %d steps, final loss %.4f, params %s\n",
                result->steps, result->final_loss,
                result->param_digest.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace dstrain
