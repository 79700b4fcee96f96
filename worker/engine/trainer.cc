// A step: grad_accum micro-batches of forward (under autocast when
// amp.dtype asks) + backward of the (fp16: scaled) loss through the ZeRO
// engine, unit by unit (the model's Loss); the engine reduces the gradients
// (stage 0: one all-reduce; 1-3: reduce-scatters to each rank's shard); one
// small all-reduce gives the global-batch mean loss, the global gradient
// norm and the ranks' agreement on inf/NaN (after the loss scaler unscaled
// them: amp/amp_step.h); unless some rank found inf/NaN, clip by the global
// norm and AdamW on the rank's master weights; the compute parameters
// follow. Every rank starts from rank 0's weights and applies the same
// update, so stage 0 ranks end each step bitwise equal and all stages hold
// the same model (the end-of-run param_digest checks it).

#include "worker/engine/trainer.h"

#include <c10/core/impl/VirtualGuardImpl.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>

#include "common/config/job_validation.h"
#include "common/contract/progress_record.h"
#include "common/fnv1a.h"
#include "common/units.h"
#include "worker/amp/amp_step.h"
#include "worker/base/device_memory.h"
#include "worker/base/memory_tracker.h"
#include "worker/base/status_error.h"
#include "worker/base/torch_error.h"
#include "worker/checkpoint/train_checkpoints.h"
#include "worker/comm/communicator_factory.h"
#include "worker/comm/plan_communicators.h"
#include "worker/comm/progress_communicator.h"
#include "worker/data/batch_prefetcher.h"
#include "worker/data/open_dataset.h"
#include "worker/data/sampler.h"
#include "worker/engine/device_batch_stager.h"
#include "worker/engine/trainable_model.h"
#include "worker/optim/lr_schedule.h"
#include "worker/zero/zero_engine.h"

namespace dstrain::engine {
namespace {

using Clock = std::chrono::steady_clock;
using base::MemoryCategory;
using base::MemoryTracker;
using base::StatusError;
using base::ThrowIfError;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::int64_t PeakRssBytes() {
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<std::int64_t>(ru.ru_maxrss) * kKiB;  // KiB on Linux
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

Status CheckRank(const RankContext& ctx) {
  if (ctx.world_size < 1 || ctx.rank < 0 || ctx.rank >= ctx.world_size) {
    return InvalidArgument("rank " + std::to_string(ctx.rank) +
                           " is outside a world of " +
                           std::to_string(ctx.world_size));
  }
  return Status::Ok();
}

}  // namespace

// Everything one run holds, in the order it is built (and destroyed in
// reverse: the engine before the communicators it uses).
class Trainer::Impl {
 public:
  Impl(const config::JobConfig& job, const RankContext& ctx,
       TrainObserver* observer)
      : job_(job), ctx_(ctx), observer_(observer), start_(Clock::now()) {}

  Status Init(std::shared_ptr<rendezvous::KeyValueStore> store);
  void Step();
  void Save();
  void Restore();
  TrainResult Finish();
  std::vector<float> Parameters() const;

  int step() const { return step_; }
  int total_steps() const { return job_.train.steps; }
  bool stopped() const { return stopped_; }
  const TrainSetup& setup() const { return setup_; }
  const RankContext& ctx() const { return ctx_; }

 private:
  // Starts the data at `data_step` (of the current global batch).
  void StartData(std::int64_t data_step);
  // Continues from `at` (a checkpoint loaded, or a fresh start).
  void ContinueFrom(const checkpoint::ResumePoint& at);
  std::int64_t DataPosition() const {
    return (data_step_ + (step_ - first_step_)) * layout_.global_batch();
  }
  std::optional<amp::LossScalerState> ScalerState() const {
    return amp_->scales_loss() ? std::optional(amp_->scaler_state())
                               : std::nullopt;
  }

  const config::JobConfig job_;
  const RankContext ctx_;
  TrainObserver* const observer_;
  const Clock::time_point start_;

  c10::Device device_ = c10::kCPU;
  std::optional<optim::LrSchedule> schedule_;
  MemoryTracker* memory_ = nullptr;
  std::optional<base::ScopedMemoryTracker> track_memory_;
  data::Dataset dataset_;
  // GPU jobs: micro-batches go to the device on a side stream.
  std::optional<DeviceBatchStager> stager_;
  data::BatchLayout layout_;
  std::optional<data::BatchPrefetcher> batches_;
  std::unique_ptr<TrainableModel> model_;
  std::optional<amp::AmpStep> amp_;
  // The rank's record for its agent (progress_record.h); null when the
  // worker was started without one. Declared before the communicators
  // that write to it.
  std::unique_ptr<contract::ProgressWriter> progress_;
  std::unique_ptr<comm::Communicator> world_;
  comm::RankPlanComms plan_;
  comm::Communicator* comm_ = nullptr;  // world_ or the plan's composed one
  std::unique_ptr<zero::ZeroEngine> zero_;
  std::optional<checkpoint::TrainCheckpoints> checkpoints_;
  TrainSetup setup_;

  int step_ = 0;                // optimizer steps done
  int first_step_ = 0;          // the step this data stream started at
  std::int64_t data_step_ = 0;  // its first data step
  int skipped_steps_ = 0;
  // Seconds the loop spent writing the checkpoint due after the previous
  // step (reported with the next step, StepMetrics.checkpoint_s); 0 when
  // none was due.
  double last_checkpoint_s_ = 0;
  double last_loss_ = 0;
  bool stopped_ = false;  // the ranks agreed to stop after step_
};

Status Trainer::Impl::Init(std::shared_ptr<rendezvous::KeyValueStore> store) {
  if (store == nullptr) return InvalidArgument("no rendezvous store given");
  DSTRAIN_RETURN_IF_ERROR(CheckRank(ctx_));
  // Which models exist is the registry's to say, before the schema's copy
  // of the list (a test keeps the two equal).
  DSTRAIN_RETURN_IF_ERROR(CheckModelType(job_.model.type));
  // The rules of a valid job live in job validation; a job that reaches
  // the trainer without passing them is refused the same way.
  DSTRAIN_RETURN_IF_ERROR(config::ValidateJob(job_));
  DSTRAIN_ASSIGN_OR_RETURN(device_, TrainingDevice(job_, ctx_));
  if (device_.is_cuda()) stager_.emplace(device_);
  DSTRAIN_ASSIGN_OR_RETURN(schedule_, optim::MakeLrSchedule(job_.train));
  SetThreads(job_.threads_per_proc);

  // Memory accounting: CPU tensors allocated on this thread from here on
  // are charged to this run (memory_tracker.h).
  base::InstallCountingCpuAllocator();
  memory_ = MemoryTracker::Create();
  track_memory_.emplace(memory_);

  // Data: every rank opens the whole dataset and reads its share.
  DSTRAIN_ASSIGN_OR_RETURN(dataset_, data::OpenDataset(job_));
  layout_.world_size = ctx_.world_size;
  layout_.rank = ctx_.rank;
  layout_.micro_batch = job_.train.micro_batch;
  layout_.grad_accum = job_.train.grad_accum;

  // Model: identical on every rank by construction (same seed, private
  // generator); the engine still broadcasts rank 0's weights, as DDP does.
  DSTRAIN_ASSIGN_OR_RETURN(model_, MakeModel(job_.model));
  at::Generator init_gen =
      at::make_generator<at::CPUGeneratorImpl>(job_.train.seed);
  model_->ResetParameters(init_gen);
  model_->module().to(device_);
  model_->module().train();

  // Mixed precision (amp/amp_step.h): units gathered and computed in the
  // autocast dtype, fp32 masters; fp16 scales the loss.
  DSTRAIN_ASSIGN_OR_RETURN(amp_, amp::AmpStep::Create(job_.amp.dtype, device_));

  comm::CommunicatorSpec spec;
  // `auto` on a GPU is nccl, as the worker command resolves it
  // (comm/backend_choice.h) for callers that did not.
  spec.backend = job_.backend == config::Backend::kAuto && device_.is_cuda()
                     ? config::Backend::kNccl
                     : job_.backend;
  spec.device = device_.is_cuda() ? device_.index() : -1;
  spec.rank = ctx_.rank;
  spec.size = ctx_.world_size;
  spec.host = ctx_.comm_host;
  spec.interface = ctx_.comm_interface;
  spec.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(
      job_.fault_tolerance.collective_timeout_s() * 1000));
  spec.store = std::move(store);
  DSTRAIN_ASSIGN_OR_RETURN(world_, comm::MakeCommunicator(spec));
  if (!ctx_.progress_file.empty()) {
    DSTRAIN_ASSIGN_OR_RETURN(
        progress_, contract::ProgressWriter::Open(ctx_.progress_file));
    progress_->SetPhase("setup");
    world_ =
        comm::WithProgressReports(std::move(world_), progress_.get(), "world");
  }
  // The topology plan's sub-communicators, and the gradient all-reduce
  // through them when the plan routes it there (plan_communicators.h).
  DSTRAIN_ASSIGN_OR_RETURN(
      plan_, comm::SetUpPlanCommunicators(*world_, ctx_.sub_communicators,
                                          ctx_.grad_routes));
  comm_ = &plan_.Training(*world_);

  zero::ZeroOptions zero_options = zero::ZeroOptions::FromJob(job_);
  zero_options.param_dtype = amp_->param_dtype();
  zero_options.device = device_;
  DSTRAIN_ASSIGN_OR_RETURN(
      zero_,
      zero::ZeroEngine::Create(model_->Units(), model_->UnitForwardOrder(),
                               *comm_, zero_options, job_.train.optimizer));

  // Dropout masks differ per rank (different data, different noise).
  if (job_.model.dropout > 0) {
    torch::manual_seed(job_.train.seed + 0x9E3779B9ULL * (ctx_.rank + 1));
  }

  // With --resume or on a restart: the engine's sharded state, the random
  // generators, the loss scaler and the data position of the newest
  // complete checkpoint; the data continues with the next batch.
  checkpoints_.emplace(job_, ctx_, layout_.global_batch());
  DSTRAIN_ASSIGN_OR_RETURN(const checkpoint::ResumePoint at,
                           checkpoints_->Resume(*zero_, *comm_));
  ContinueFrom(at);

  setup_.backend = comm_->backend();
  setup_.param_count = zero_->param_count();
  setup_.dataset_tokens = dataset_.source->size();
  setup_.dataset_files = dataset_.files;
  setup_.dataset = dataset_.description;
  setup_.global_batch = layout_.global_batch();
  setup_.tokens_per_step = layout_.global_batch() * job_.model.seq_len;
  setup_.resumed_from_step = step_;
  setup_.setup_s = Seconds(start_, Clock::now());
  if (observer_ != nullptr) observer_->OnSetup(setup_);
  return Status::Ok();
}

void Trainer::Impl::ContinueFrom(const checkpoint::ResumePoint& at) {
  if (at.loss_scaler && amp_->scales_loss()) {
    ThrowIfError(amp_->RestoreScalerState(*at.loss_scaler));
  }
  step_ = first_step_ = static_cast<int>(at.step);
  StartData(at.data_step);
}

void Trainer::Impl::StartData(std::int64_t data_step) {
  batches_.reset();  // its thread stops before the new one starts
  data::TokenSource& source = *dataset_.source;
  StatusOr<data::WindowSampler> sampler = data::WindowSampler::Create(
      source.size(), data::SamplerOptionsFor(job_, source));
  if (!sampler.ok()) {
    throw StatusError(InvalidArgument("data.path " + job_.data.path + ": " +
                                      sampler.status().message()));
  }
  data_step_ = data_step;
  batches_.emplace(source, std::move(sampler).value(), layout_,
                   job_.model.seq_len, data_step,
                   data_step + std::max(0, job_.train.steps - step_),
                   job_.data.prefetch);
}

void Trainer::Impl::Step() {
  const Clock::time_point t0 = Clock::now();
  if (observer_ != nullptr) observer_->BeforeStep(step_ + 1);
  if (progress_ != nullptr) {
    progress_->SetStep(step_ + 1);
    progress_->SetPhase("train");
  }
  const int accum = job_.train.grad_accum;
  const int micro_batch = job_.train.micro_batch;
  const int seq_len = job_.model.seq_len;
  zero::ZeroEngine& engine = *zero_;
  amp::AmpStep& amp = *amp_;

  engine.BeginStep();
  memory_->ResetPeak(MemoryCategory::kActivation);
  base::ResetDevicePeak(device_);
  const std::int64_t activation_base =
      memory_->live(MemoryCategory::kActivation);
  double loss_sum = 0;
  double data_wait_s = 0;
  // The next micro-batch from the prefetcher; on GPU jobs its copy to the
  // device starts at once on the side stream. CPU jobs use the
  // prefetcher's buffer in place (held) and hand it back once the next
  // micro-batch replaces it: the backward that read it is over by then.
  std::vector<std::int64_t> held;
  auto next_batch = [&]() -> at::Tensor {
    const Clock::time_point asked = Clock::now();
    data::MicroBatch mb = batches_->Next();
    data_wait_s += Seconds(asked, Clock::now());
    ThrowIfError(mb.status);
    const at::Tensor host = torch::from_blob(
        mb.tokens.data(), {micro_batch, seq_len + 1}, torch::kInt64);
    if (stager_.has_value()) {
      stager_->Stage(host);  // copied into pinned memory: mb is free
      batches_->Recycle(std::move(mb.tokens));
      return at::Tensor();
    }
    if (!held.empty()) batches_->Recycle(std::move(held));
    held = std::move(mb.tokens);  // the buffer (and `host`'s data) moves
    return host;
  };
  at::Tensor tokens = next_batch();
  for (int micro = 0; micro < accum; ++micro) {
    if (stager_.has_value()) tokens = stager_->Take();
    engine.BeginMicroBatch();
    at::Tensor loss;
    {
      // Autocast covers the forward only, as torch.autocast's `with`.
      const amp::AutocastScope autocast = amp.Autocast();
      loss = model_->Loss(engine, tokens.narrow(1, 0, seq_len),
                          tokens.narrow(1, 1, seq_len));
    }
    amp.ScaleLoss(accum > 1 ? loss / accum : loss).backward();
    // The next micro-batch's copy overlaps this one's queued kernels; its
    // loss is read back (a sync) after.
    at::Tensor next;
    if (micro + 1 < accum) next = next_batch();
    loss_sum += loss.item<double>();
    engine.FinishMicroBatch(/*last=*/micro == accum - 1);
    tokens = next;
  }
  const std::int64_t activation_peak =
      memory_->peak(MemoryCategory::kActivation) - activation_base;

  torch::NoGradGuard no_grad;
  // The gradients are reduced and in engine.grads() (this rank's fp32
  // shard): the loss scaler unscales them and its local inf/NaN flag goes
  // into ReduceStats' all-reduce, so every rank skips the same steps.
  if (observer_ != nullptr && observer_->InjectInfGradient(step_ + 1)) {
    engine.grads().view({-1}).narrow(0, 0, 1).fill_(
        std::numeric_limits<float>::infinity());
  }
  const double loss_scale = amp.scale();
  const bool local_inf = ValueOrThrow(amp.UnscaleAndCheck(engine.grads()));
  const bool local_stop = observer_ != nullptr && observer_->StopRequested();
  const zero::StepStats stats =
      engine.ReduceStats(loss_sum / accum, local_inf, local_stop);
  const bool skip = ValueOrThrow(amp.Agree(stats.found_inf));
  const double lr = optim::LearningRate(*schedule_, step_);
  if (!skip) {
    const double clip = job_.train.clip_grad_norm;
    if (clip > 0) {
      const double coef = clip / (stats.grad_norm + 1e-6);
      if (coef < 1.0) engine.ScaleGrads(coef);
    }
    engine.Step(lr);
  } else {
    engine.Sync();  // the step's collectives end here either way
    ++skipped_steps_;
  }
  ThrowIfError(amp.EndStep());
  ++step_;
  last_loss_ = stats.loss;
  if (observer_ != nullptr && observer_->WantsMasterDigests()) {
    const at::Tensor m = engine.master().cpu().contiguous();
    Fnv1a64 h;
    h.Update(m.data_ptr(), m.numel() * m.element_size());
    observer_->OnMasterDigest(step_, h.Hex());
  }

  const Clock::time_point t1 = Clock::now();
  if (observer_ != nullptr) {
    const zero::MemoryStats m = engine.memory();
    StepReport r;
    r.step = step_;
    r.total_steps = job_.train.steps;
    r.loss = stats.loss;
    r.lr = lr;
    r.grad_norm = stats.grad_norm;
    r.step_time_s = Seconds(t0, t1);
    r.tokens_per_s =
        r.step_time_s > 0 ? setup_.tokens_per_step / r.step_time_s : 0;
    r.comm_time_s = engine.comm_wait_s();
    r.data_wait_s = data_wait_s;
    r.loss_scale = loss_scale;
    r.skipped = skip;
    r.skipped_steps = skipped_steps_;
    r.elapsed_s = Seconds(start_, t1);
    r.peak_rss_bytes = PeakRssBytes();
    r.param_bytes = m.now.params;
    r.grad_bytes = m.now.grads;
    r.optimizer_bytes = m.now.optimizer;
    r.model_state_peak_bytes = m.peak_model_state;
    r.activation_peak_bytes = activation_peak;
    r.checkpoint_s = last_checkpoint_s_;
    r.device_peak_bytes = base::DevicePeakAllocatedBytes(device_);
    observer_->OnStep(r);
  }

  // Saves every checkpoint.every_steps steps. A save may keep a rank out
  // of collectives for long: the phase says so to the hang detection.
  if (progress_ != nullptr) progress_->SetPhase("checkpoint");
  const Clock::time_point saving = Clock::now();
  ThrowIfError(checkpoints_->AfterStep(step_, DataPosition(), ScalerState(),
                                       engine, *comm_));
  const int every_steps = job_.checkpoint.every_steps;
  last_checkpoint_s_ = every_steps > 0 && step_ % every_steps == 0
                           ? Seconds(saving, Clock::now())
                           : 0;
  if (stats.stop) {
    // Asked to stop: every rank ends after this step with a checkpoint of
    // it (unless AfterStep has just written one), to be resumed.
    const int every = job_.checkpoint.every_steps;
    const bool saved =
        every > 0 && (step_ % every == 0 || (step_ == job_.train.steps &&
                                             job_.checkpoint.save_final));
    if (!saved) {
      ThrowIfError(checkpoints_->SaveNow(step_, DataPosition(), ScalerState(),
                                         engine, *comm_));
    }
    stopped_ = true;
  }
  if (progress_ != nullptr) progress_->SetPhase("train");
}

void Trainer::Impl::Save() {
  ThrowIfError(checkpoints_->SaveNow(step_, DataPosition(), ScalerState(),
                                     *zero_, *comm_));
}

void Trainer::Impl::Restore() {
  ThrowIfError(checkpoints_->Finish(*zero_, *comm_));
  const checkpoint::ResumePoint at =
      ValueOrThrow(checkpoints_->Restore(*zero_, *comm_));
  if (!at.resumed) {
    throw StatusError(
        NotFound("no complete checkpoint in " + checkpoints_->dir()));
  }
  ContinueFrom(at);
}

TrainResult Trainer::Impl::Finish() {
  // An asynchronous save still being written is published before the end.
  ThrowIfError(checkpoints_->Finish(*zero_, *comm_));
  // Full parameters on every rank (stage 3 gathers them) for the digest.
  zero_->GatherAll();
  TrainResult result;
  result.steps = step_;
  result.final_loss = last_loss_;
  result.param_count = zero_->param_count();
  result.resumed_from_step = setup_.resumed_from_step;
  result.stopped = stopped_;
  result.param_digest = Digest(model_->module());
  // Nobody leaves while a peer may still be inside a collective with it.
  ThrowIfError(comm::Await(comm_->Barrier()));
  return result;
}

std::vector<float> Trainer::Impl::Parameters() const {
  std::vector<float> out;
  for (const at::Tensor& p : model_->module().parameters()) {
    const at::Tensor c = p.detach().to(at::kFloat).cpu().contiguous();
    const float* d = c.data_ptr<float>();
    out.insert(out.end(), d, d + c.numel());
  }
  return out;
}

namespace {

// Runs `fn`, turning what it throws into a Status that names the rank.
template <typename Fn>
Status Guarded(int rank, Fn&& fn) {
  try {
    return fn();
  } catch (const StatusError& e) {
    return Status(e.status().code(),
                  "rank " + std::to_string(rank) + ": " + e.status().message());
  } catch (const std::exception& e) {
    return Internal("rank " + std::to_string(rank) +
                    " training failed: " + base::OneLine(e));
  }
}

}  // namespace

Trainer::Trainer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Trainer::~Trainer() = default;

StatusOr<std::unique_ptr<Trainer>> Trainer::Create(
    const config::JobConfig& job, const RankContext& ctx,
    std::shared_ptr<rendezvous::KeyValueStore> store, TrainObserver* observer) {
  auto impl = std::make_unique<Impl>(job, ctx, observer);
  DSTRAIN_RETURN_IF_ERROR(
      Guarded(ctx.rank, [&] { return impl->Init(std::move(store)); }));
  return std::unique_ptr<Trainer>(new Trainer(std::move(impl)));
}

int Trainer::step() const { return impl_->step(); }
int Trainer::total_steps() const { return impl_->total_steps(); }
bool Trainer::stopped() const { return impl_->stopped(); }
const TrainSetup& Trainer::setup() const { return impl_->setup(); }

Status Trainer::Step() {
  if (done()) {
    return FailedPrecondition("Trainer::Step after the last step (" +
                              std::to_string(total_steps()) + ")");
  }
  return Guarded(impl_->ctx().rank, [&] {
    impl_->Step();
    return Status::Ok();
  });
}

Status Trainer::Save() {
  return Guarded(impl_->ctx().rank, [&] {
    impl_->Save();
    return Status::Ok();
  });
}

Status Trainer::Restore() {
  return Guarded(impl_->ctx().rank, [&] {
    impl_->Restore();
    return Status::Ok();
  });
}

StatusOr<TrainResult> Trainer::Finish() {
  TrainResult result;
  DSTRAIN_RETURN_IF_ERROR(Guarded(impl_->ctx().rank, [&] {
    result = impl_->Finish();
    return Status::Ok();
  }));
  return result;
}

StatusOr<TrainResult> Trainer::Run() {
  while (!done()) DSTRAIN_RETURN_IF_ERROR(Step());
  return Finish();
}

std::vector<float> Trainer::Parameters() const { return impl_->Parameters(); }

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

}  // namespace dstrain::engine
