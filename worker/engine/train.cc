// One rank's training run: data parallelism with ZeRO stages 0-3
// (worker/zero/zero_engine.h) and optional activation checkpointing.
//
// Each step: grad_accum micro-batches of forward (under autocast when
// amp.dtype asks) + backward of the (fp16: scaled) loss through the
// engine, unit by unit (engine/gpt_runner.h); the engine reduces the
// gradients (stage 0: one all-reduce; 1-3: reduce-scatters to each rank's
// shard); one small all-reduce gives the global-batch mean loss, the
// global gradient norm and the ranks' agreement on inf/NaN (after the
// loss scaler unscaled them: amp/amp_step.h); unless some rank found
// inf/NaN, clip by the global norm and AdamW on the rank's master weights;
// the compute parameters follow. Every rank starts from rank 0's weights and
// applies the same update, so stage 0 ranks end each step bitwise equal and all
// stages hold the same model (the end-of-run param_digest checks it).

#include "worker/engine/train.h"

#include <c10/core/impl/VirtualGuardImpl.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>

#include "worker/amp/amp_step.h"
#include "worker/checkpoint/train_checkpoints.h"
#include "worker/comm/communicator_factory.h"
#include "worker/data/batch_prefetcher.h"
#include "worker/data/sampler.h"
#include "worker/data/text_dataset.h"
#include "worker/engine/fnv1a.h"
#include "worker/engine/gpt_runner.h"
#include "worker/engine/job_support.h"
#include "worker/engine/memory_tracker.h"
#include "worker/engine/plan_communicators.h"
#include "worker/engine/status_error.h"
#include "worker/engine/torch_error.h"
#include "worker/models/gpt.h"
#include "worker/optim/lr_schedule.h"
#include "worker/zero/zero_engine.h"

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

// The rank's device: cuda:local_rank for `device: cuda`, made the thread's
// current CUDA device (as torch.cuda.set_device(local_rank) in a DDP
// script): what is captured and restored as "the current device's"
// generator (recompute's dropout masks, checkpoints) and where
// current-device allocations and streams go must be the rank's own GPU.
StatusOr<c10::Device> TrainingDevice(const config::JobConfig& job,
                                     const RankContext& ctx) {
  DSTRAIN_RETURN_IF_ERROR(CheckDeviceVisible(job, ctx));
  if (job.device != config::Device::kCuda) return c10::Device(c10::kCPU);
  const c10::Device device(c10::kCUDA,
                           static_cast<c10::DeviceIndex>(ctx.local_rank));
  c10::impl::VirtualGuardImpl(c10::kCUDA).setDevice(device);
  return device;
}

template <typename T>
T ValueOrThrow(StatusOr<T> v) {
  if (!v.ok()) throw StatusError(v.status());
  return std::move(v).value();
}

// FNV-1a 64 of every parameter's bytes in registration order.
std::string Digest(torch::nn::Module& model) {
  Fnv1a64 h;
  for (const at::Tensor& p : model.parameters()) {
    const at::Tensor c = p.detach().cpu().contiguous();
    h.Update(c.data_ptr(), c.numel() * c.element_size());
  }
  return h.Hex();
}

std::vector<float> Flatten(torch::nn::Module& model) {
  std::vector<float> out;
  for (const at::Tensor& p : model.parameters()) {
    const at::Tensor c = p.detach().to(at::kFloat).cpu().contiguous();
    const float* d = c.data_ptr<float>();
    out.insert(out.end(), d, d + c.numel());
  }
  return out;
}

StatusOr<TrainResult> Train(const config::JobConfig& job,
                            const RankContext& ctx,
                            std::shared_ptr<rendezvous::KeyValueStore> store,
                            const TrainHooks& hooks) {
  const Clock::time_point start = Clock::now();
  DSTRAIN_RETURN_IF_ERROR(CheckEngineSupports(job, ctx));
  StatusOr<c10::Device> device_or = TrainingDevice(job, ctx);
  if (!device_or.ok()) return device_or.status();
  const c10::Device device = *device_or;
  if (store == nullptr) return InvalidArgument("no rendezvous store given");
  StatusOr<optim::LrSchedule> schedule = optim::MakeLrSchedule(job.train);
  if (!schedule.ok()) return schedule.status();
  SetThreads(job.threads_per_proc);

  // Memory accounting: CPU tensors allocated on this thread from here on
  // are charged to this run (memory_tracker.h).
  InstallCountingCpuAllocator();
  MemoryTracker* const memory = MemoryTracker::Create();
  ScopedMemoryTracker track_memory(memory);

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
  // Started once the resume point is known (checkpoints, below).
  std::optional<data::BatchPrefetcher> batches;

  // Model: identical on every rank by construction (same seed, private
  // generator); the engine still broadcasts rank 0's weights, as DDP does.
  models::Gpt model(models::GptOptions::FromConfig(job.model));
  at::Generator init_gen =
      at::make_generator<at::CPUGeneratorImpl>(job.train.seed);
  model->ResetParameters(init_gen);
  model->to(device);
  model->train();

  // Mixed precision (amp/amp_step.h): units gathered and computed in the
  // autocast dtype, fp32 masters; fp16 scales the loss.
  StatusOr<amp::AmpStep> amp_or = amp::AmpStep::Create(job.amp.dtype, device);
  if (!amp_or.ok()) return amp_or.status();
  amp::AmpStep& amp = *amp_or;

  comm::CommunicatorSpec spec;
  // `auto` on a GPU is nccl, as worker_command.cc resolves it
  // (comm/backend_choice.h) for callers that did not.
  spec.backend = job.backend == config::Backend::kAuto && device.is_cuda()
                     ? config::Backend::kNccl
                     : job.backend;
  spec.device = device.is_cuda() ? device.index() : -1;
  spec.rank = ctx.rank;
  spec.size = ctx.world_size;
  spec.host = ctx.comm_host;
  spec.interface = ctx.comm_interface;
  spec.timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(job.fault_tolerance.hang_timeout_s * 1000));
  spec.store = store;
  StatusOr<std::unique_ptr<comm::Communicator>> comm_or =
      comm::MakeCommunicator(spec);
  if (!comm_or.ok()) return comm_or.status();
  // The topology plan's sub-communicators, and the gradient all-reduce
  // through them when the plan routes it there (plan_communicators.h).
  StatusOr<RankPlanComms> plan_or = SetUpPlanCommunicators(
      **comm_or, ctx.sub_communicators, ctx.grad_allreduce);
  if (!plan_or.ok()) return plan_or.status();
  comm::Communicator& comm = plan_or->Training(**comm_or);

  zero::ZeroOptions zero_options = zero::ZeroOptions::FromJob(job);
  zero_options.param_dtype = amp.param_dtype();
  zero_options.device = device;
  StatusOr<std::unique_ptr<zero::ZeroEngine>> engine_or =
      zero::ZeroEngine::Create(model->Units(), model->UnitForwardOrder(), comm,
                               zero_options, job.train.optimizer);
  if (!engine_or.ok()) return engine_or.status();
  zero::ZeroEngine& engine = **engine_or;

  // Dropout masks differ per rank (different data, different noise).
  if (job.model.dropout > 0) {
    torch::manual_seed(job.train.seed + 0x9E3779B9ULL * (ctx.rank + 1));
  }

  // ---- checkpoints: resume (worker/checkpoint/train_checkpoints.h) -----
  // With DSTRAIN_RESUME or on a restart: the engine's sharded state, the
  // random generators, the loss scaler and the data position of the
  // newest complete checkpoint; the data continues with the next batch.
  checkpoint::TrainCheckpoints checkpoints(job, ctx, layout.global_batch());
  StatusOr<checkpoint::ResumePoint> resume_or =
      checkpoints.Resume(engine, comm);
  if (!resume_or.ok()) return resume_or.status();
  const checkpoint::ResumePoint resume_at = *resume_or;
  if (resume_at.loss_scaler && amp.scales_loss()) {
    ThrowIfError(amp.RestoreScalerState(*resume_at.loss_scaler));
  }
  const int first_step = static_cast<int>(resume_at.step);
  batches.emplace(
      bytes, std::move(sampler).value(), layout, seq_len, resume_at.data_step,
      resume_at.data_step + std::max(0, steps - first_step), job.data.prefetch);
  // ----------------------------------------------------------------------

  const std::int64_t tokens_per_step = layout.global_batch() * seq_len;
  if (hooks.on_setup) {
    TrainSetup setup;
    setup.backend = comm.backend();
    setup.param_count = engine.param_count();
    setup.dataset_bytes = static_cast<std::int64_t>(bytes.size());
    setup.dataset_files = static_cast<int>((*dataset)->files().size());
    setup.global_batch = layout.global_batch();
    setup.tokens_per_step = tokens_per_step;
    setup.setup_s = Seconds(start, Clock::now());
    hooks.on_setup(setup);
  }

  const int accum = job.train.grad_accum;
  const int micro_batch = job.train.micro_batch;
  TrainResult result;
  result.param_count = engine.param_count();
  int skipped_steps = 0;
  result.resumed_from_step = first_step;

  for (int step = first_step; step < steps; ++step) {
    const Clock::time_point t0 = Clock::now();
    engine.BeginStep();
    memory->ResetPeak(MemoryCategory::kActivation);
    const std::int64_t activation_base =
        memory->live(MemoryCategory::kActivation);
    double loss_sum = 0;
    for (int micro = 0; micro < accum; ++micro) {
      data::MicroBatch mb = batches->Next();
      {
        const at::Tensor host = torch::from_blob(
            mb.tokens.data(), {micro_batch, seq_len + 1}, torch::kInt64);
        const at::Tensor tokens = device.is_cuda() ? host.to(device) : host;
        engine.BeginMicroBatch();
        at::Tensor loss;
        {
          // Autocast covers the forward only, as torch.autocast's `with`.
          const amp::AutocastScope autocast = amp.Autocast();
          loss = ShardedGptLoss(*model, engine, tokens.narrow(1, 0, seq_len),
                                tokens.narrow(1, 1, seq_len));
        }
        amp.ScaleLoss(accum > 1 ? loss / accum : loss).backward();
        loss_sum += loss.item<double>();
        engine.FinishMicroBatch(/*last=*/micro == accum - 1);
      }
      batches->Recycle(std::move(mb.tokens));
    }
    const std::int64_t activation_peak =
        memory->peak(MemoryCategory::kActivation) - activation_base;

    torch::NoGradGuard no_grad;
    // The gradients are reduced and in engine.grads() (this rank's fp32
    // shard): the loss scaler unscales them and its local inf/NaN flag goes
    // into ReduceStats' all-reduce, so every rank skips the same steps.
    if (hooks.inject_inf_grad && hooks.inject_inf_grad(step + 1)) {
      engine.grads().view({-1}).narrow(0, 0, 1).fill_(
          std::numeric_limits<float>::infinity());
    }
    const double loss_scale = amp.scale();
    const bool local_inf = ValueOrThrow(amp.UnscaleAndCheck(engine.grads()));
    const zero::StepStats stats =
        engine.ReduceStats(loss_sum / accum, local_inf);
    const bool skip = ValueOrThrow(amp.Agree(stats.found_inf));
    const double lr = optim::LearningRate(*schedule, step);
    if (!skip) {
      const double clip = job.train.clip_grad_norm;
      if (clip > 0) {
        const double coef = clip / (stats.grad_norm + 1e-6);
        if (coef < 1.0) engine.ScaleGrads(coef);
      }
      engine.Step(lr);
    } else {
      engine.Sync();  // the step's collectives end here either way
      ++skipped_steps;
    }
    ThrowIfError(amp.EndStep());
    if (hooks.on_master_digest) {
      const at::Tensor m = engine.master().cpu().contiguous();
      Fnv1a64 h;
      h.Update(m.data_ptr(), m.numel() * m.element_size());
      hooks.on_master_digest(step + 1, h.Hex());
    }

    const Clock::time_point t1 = Clock::now();
    result.steps = step + 1;
    result.final_loss = stats.loss;
    if (hooks.on_step) {
      const zero::MemoryStats m = engine.memory();
      StepReport r;
      r.step = step + 1;
      r.total_steps = steps;
      r.loss = stats.loss;
      r.lr = lr;
      r.grad_norm = stats.grad_norm;
      r.step_time_s = Seconds(t0, t1);
      r.tokens_per_s = r.step_time_s > 0 ? tokens_per_step / r.step_time_s : 0;
      r.comm_time_s = engine.comm_wait_s();
      r.loss_scale = loss_scale;
      r.skipped = skip;
      r.skipped_steps = skipped_steps;
      r.elapsed_s = Seconds(start, t1);
      r.peak_rss_bytes = PeakRssBytes();
      r.param_bytes = m.now.params;
      r.grad_bytes = m.now.grads;
      r.optimizer_bytes = m.now.optimizer;
      r.model_state_peak_bytes = m.peak_model_state;
      r.activation_peak_bytes = activation_peak;
      hooks.on_step(r);
    }

    // ---- checkpoints: save every checkpoint.every_steps steps ----------
    const std::int64_t data_position =
        (resume_at.data_step + (step + 1 - first_step)) * layout.global_batch();
    ThrowIfError(checkpoints.AfterStep(
        step + 1, data_position,
        amp.scales_loss() ? std::optional(amp.scaler_state()) : std::nullopt,
        engine, comm));
    if (hooks.stop_after_step > 0 && step + 1 >= hooks.stop_after_step) break;
  }
  // An asynchronous save still being written is published before the end.
  ThrowIfError(checkpoints.Finish(engine, comm));

  // Full parameters on every rank (stage 3 gathers them) for the digest.
  engine.GatherAll();
  result.param_digest = Digest(*model);
  if (hooks.collect_final_parameters) result.final_parameters = Flatten(*model);
  // Nobody leaves while a peer may still be inside a collective with it.
  ThrowIfError(comm::Await(comm.Barrier()));
  return result;
}

}  // namespace

Status CheckDeviceVisible(const config::JobConfig& job,
                          const RankContext& ctx) {
  if (job.device != config::Device::kCuda) return Status::Ok();
  const std::size_t visible = torch::cuda::device_count();
  if (visible == 0) {
    return FailedPrecondition(
        "device: cuda but no CUDA device is visible (CUDA_VISIBLE_DEVICES, "
        "driver); use device: cpu or run on a GPU node");
  }
  if (ctx.local_rank < 0 ||
      static_cast<std::size_t>(ctx.local_rank) >= visible) {
    return FailedPrecondition(
        "device: cuda but local rank " + std::to_string(ctx.local_rank) +
        " has no CUDA device (" + std::to_string(visible) +
        " visible): procs_per_node must not exceed the GPUs per node");
  }
  return Status::Ok();
}

StatusOr<TrainResult> RunTraining(
    const config::JobConfig& job, const RankContext& ctx,
    std::shared_ptr<rendezvous::KeyValueStore> store,
    const StepCallback& on_step, const SetupCallback& on_setup) {
  TrainHooks hooks;
  hooks.on_step = on_step;
  hooks.on_setup = on_setup;
  return RunTraining(job, ctx, std::move(store), hooks);
}

StatusOr<TrainResult> RunTraining(
    const config::JobConfig& job, const RankContext& ctx,
    std::shared_ptr<rendezvous::KeyValueStore> store, const TrainHooks& hooks) {
  try {
    return Train(job, ctx, std::move(store), hooks);
  } catch (const StatusError& e) {
    return Status(e.status().code(), "rank " + std::to_string(ctx.rank) + ": " +
                                         e.status().message());
  } catch (const std::exception& e) {
    return Internal("rank " + std::to_string(ctx.rank) +
                    " training failed: " + OneLine(e));
  }
}

}  // namespace dstrain::engine
