// One rank's training run: plain data parallelism (ZeRO stage 0).
//
// Each step: grad_accum micro-batches of forward + backward, whose gradients
// accumulate in one flat buffer (FlatParameters); the buffer's last slot
// holds this rank's mean micro-batch loss; ONE all-reduce (sum) of the
// buffer; divide by the world size, so every rank holds the global-batch
// mean gradient and loss; clip by the global norm; AdamW step. Every rank
// ends each step with bitwise-equal parameters because it applies the same
// update to the same (broadcast) starting point.

#include "worker/engine/train.h"

#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <exception>
#include <mutex>

#include "worker/comm/gloo_communicator.h"
#include "worker/data/batch_prefetcher.h"
#include "worker/data/sampler.h"
#include "worker/data/text_dataset.h"
#include "worker/engine/flat_parameters.h"
#include "worker/engine/job_support.h"
#include "worker/engine/torch_error.h"
#include "worker/models/gpt.h"
#include "worker/optim/adamw.h"
#include "worker/optim/lr_schedule.h"

namespace dstrain::engine {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::int64_t PeakRssBytes() {
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<std::int64_t>(ru.ru_maxrss) * 1024;  // KiB on Linux
}

void SetThreads(int threads) {
  at::set_num_threads(threads > 0 ? threads : 1);
  // The inter-op pool can be sized only before its first use, once per
  // process; later calls (a second run in the same process) throw.
  static std::once_flag once;
  std::call_once(once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
    }
  });
}

StatusOr<TrainResult> Train(const config::JobConfig& job,
                            const RankContext& ctx,
                            std::shared_ptr<rendezvous::KeyValueStore> store,
                            const StepCallback& on_step,
                            const SetupCallback& on_setup) {
  const Clock::time_point start = Clock::now();
  DSTRAIN_RETURN_IF_ERROR(CheckEngineSupports(job, ctx));
  if (store == nullptr) return InvalidArgument("no rendezvous store given");
  StatusOr<optim::LrSchedule> schedule = optim::MakeLrSchedule(job.train);
  if (!schedule.ok()) return schedule.status();
  SetThreads(job.threads_per_proc);

  // Data: every rank maps the whole corpus and reads its share.
  StatusOr<std::unique_ptr<data::TextDataset>> dataset =
      data::TextDataset::Open(ResolveDataPath(job));
  if (!dataset.ok()) return dataset.status();
  const std::span<const std::uint8_t> bytes = (*dataset)->bytes();
  const int seq_len = job.model.seq_len;
  StatusOr<data::WindowSampler> sampler = data::WindowSampler::Create(
      static_cast<std::int64_t>(bytes.size()), seq_len + 1, job.train.seed);
  if (!sampler.ok()) {
    return InvalidArgument("data.path " + ResolveDataPath(job) + ": " +
                           sampler.status().message());
  }
  data::BatchLayout layout;
  layout.world_size = ctx.world_size;
  layout.rank = ctx.rank;
  layout.micro_batch = job.train.micro_batch;
  layout.grad_accum = job.train.grad_accum;
  const int steps = job.train.steps;
  data::BatchPrefetcher batches(bytes, std::move(sampler).value(), layout,
                                seq_len, /*first_step=*/0, steps,
                                job.data.prefetch);

  // Model: identical on every rank by construction (same seed, private
  // generator); rank 0's copy is still broadcast below, as DDP does, so
  // ranks agree even if their arithmetic differed.
  models::Gpt model(models::GptOptions::FromConfig(job.model));
  at::Generator init_gen =
      at::make_generator<at::CPUGeneratorImpl>(job.train.seed);
  model->ResetParameters(init_gen);
  model->train();
  FlatParameters flat(*model);

  comm::GlooOptions gloo;
  gloo.host = ctx.comm_host;
  gloo.interface = ctx.comm_interface;
  gloo.timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(job.fault_tolerance.hang_timeout_s * 1000));
  StatusOr<std::unique_ptr<comm::Communicator>> comm_or =
      comm::CreateGlooCommunicator(store, ctx.rank, ctx.world_size, gloo);
  if (!comm_or.ok()) return comm_or.status();
  comm::Communicator& comm = **comm_or;
  if (comm.size() > 1) {
    torch::NoGradGuard no_grad;
    at::Tensor params = flat.params();
    DSTRAIN_RETURN_IF_ERROR(comm::Await(comm.Broadcast(params, /*root=*/0)));
  }
  // Dropout masks differ per rank (different data, different noise).
  if (job.model.dropout > 0) {
    torch::manual_seed(job.train.seed + 0x9E3779B9ULL * (ctx.rank + 1));
  }

  std::unique_ptr<torch::optim::AdamW> optimizer =
      optim::MakeAdamW(flat, job.train.optimizer);

  const std::int64_t tokens_per_step = layout.global_batch() * seq_len;
  if (on_setup) {
    TrainSetup setup;
    setup.backend = comm.backend();
    setup.param_count = flat.numel();
    setup.dataset_bytes = static_cast<std::int64_t>(bytes.size());
    setup.dataset_files = static_cast<int>((*dataset)->files().size());
    setup.global_batch = layout.global_batch();
    setup.tokens_per_step = tokens_per_step;
    setup.setup_s = Seconds(start, Clock::now());
    on_setup(setup);
  }

  const int accum = job.train.grad_accum;
  const int micro_batch = job.train.micro_batch;
  const double inv_world = 1.0 / comm.size();
  at::Tensor grads_and_loss = flat.grads_and_loss();
  at::Tensor grads = flat.grads();
  TrainResult result;
  result.param_count = flat.numel();

  for (int step = 0; step < steps; ++step) {
    const Clock::time_point t0 = Clock::now();
    grads_and_loss.zero_();
    double loss_sum = 0;
    for (int micro = 0; micro < accum; ++micro) {
      data::MicroBatch mb = batches.Next();
      {
        const at::Tensor tokens = torch::from_blob(
            mb.tokens.data(), {micro_batch, seq_len + 1}, torch::kInt64);
        const at::Tensor loss = model->Loss(tokens.narrow(1, 0, seq_len),
                                            tokens.narrow(1, 1, seq_len));
        (accum > 1 ? loss / accum : loss).backward();
        loss_sum += loss.item<double>();
      }
      batches.Recycle(std::move(mb.tokens));
    }

    torch::NoGradGuard no_grad;
    flat.EnsureGradViews();
    *flat.loss_slot() = static_cast<float>(loss_sum / accum);
    const Clock::time_point tc = Clock::now();
    DSTRAIN_RETURN_IF_ERROR(
        comm::Await(comm.AllReduce(grads_and_loss, comm::ReduceOp::kSum)));
    const double comm_s = Seconds(tc, Clock::now());
    if (comm.size() > 1) grads_and_loss.mul_(inv_world);
    const double loss = *flat.loss_slot();

    const double grad_norm =
        optim::ClipGradNorm(grads, job.train.clip_grad_norm);
    const double lr = optim::LearningRate(*schedule, step);
    optim::SetLearningRate(*optimizer, lr);
    optimizer->step();

    const Clock::time_point t1 = Clock::now();
    result.steps = step + 1;
    result.final_loss = loss;
    if (on_step) {
      StepReport r;
      r.step = step + 1;
      r.total_steps = steps;
      r.loss = loss;
      r.lr = lr;
      r.grad_norm = grad_norm;
      r.step_time_s = Seconds(t0, t1);
      r.tokens_per_s = r.step_time_s > 0 ? tokens_per_step / r.step_time_s : 0;
      r.comm_time_s = comm_s;
      r.loss_scale = 1.0;
      r.elapsed_s = Seconds(start, t1);
      r.peak_rss_bytes = PeakRssBytes();
      on_step(r);
    }
  }

  // Nobody leaves while a peer may still be inside a collective with it.
  DSTRAIN_RETURN_IF_ERROR(comm::Await(comm.Barrier()));
  result.param_digest = flat.Digest();
  return result;
}

}  // namespace

StatusOr<TrainResult> RunTraining(
    const config::JobConfig& job, const RankContext& ctx,
    std::shared_ptr<rendezvous::KeyValueStore> store,
    const StepCallback& on_step, const SetupCallback& on_setup) {
  try {
    return Train(job, ctx, std::move(store), on_step, on_setup);
  } catch (const std::exception& e) {
    return Internal("rank " + std::to_string(ctx.rank) +
                    " training failed: " + OneLine(e));
  }
}

}  // namespace dstrain::engine
