#pragma once
// The training engine's entry point: one rank's whole training run.
//
// RunTraining builds the model, data and optimizer from the job, bootstraps
// the communicator through `store`, trains `job.train.steps` steps and
// returns what the rank ended with. It calls `on_step` on the calling thread
// after every optimizer step. libtorch exceptions never escape: they come
// back as a non-OK Status naming what failed.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/rendezvous/kv_store.h"

namespace dstrain::engine {

// Who this process is in the job.
struct RankContext {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string job_id = "local";
  int attempt = 0;
  std::string hostname;
  // Where this rank's collectives listen: an address or hostname its peers
  // can reach (127.0.0.1 when every rank is on one host), or a network
  // interface name, which wins when set (like GLOO_SOCKET_IFNAME).
  std::string comm_host = "127.0.0.1";
  std::string comm_interface;
  // This rank's part of the coordinator's topology plan, as the agent set
  // DSTRAIN_SUBCOMMS and DSTRAIN_GRAD_ALLREDUCE (plan_communicators.h);
  // empty without a plan.
  std::string sub_communicators;
  std::string grad_allreduce;
  // Checkpoints (worker/checkpoint/train_checkpoints.h): the run directory
  // (DSTRAIN_RUN_DIR; checkpoint.dir defaults to <run_dir>/ckpt), and
  // whether to resume from the newest complete checkpoint (DSTRAIN_RESUME,
  // `dstrain launch --resume`; attempt > 0 resumes too).
  std::string run_dir;
  bool resume = false;
};

// What a rank set up, reported once before the first step.
struct TrainSetup {
  std::string backend;  // e.g. "gloo"
  std::int64_t param_count = 0;
  std::int64_t dataset_bytes = 0;
  int dataset_files = 0;
  std::int64_t global_batch = 0;     // sequences per optimizer step
  std::int64_t tokens_per_step = 0;  // global_batch * seq_len
  double setup_s = 0;                // from RunTraining's start
};

// One optimizer step as seen by this rank.
struct StepReport {
  int step = 0;  // 1-based
  int total_steps = 0;
  double loss = 0;  // mean over this step's global batch (all ranks)
  double lr = 0;
  double grad_norm = 0;     // before clipping
  double tokens_per_s = 0;  // whole job: global batch tokens / step time
  double step_time_s = 0;
  double comm_time_s = 0;
  // The fp16 loss scale this step's loss was multiplied by (1 without a
  // loss scaler: amp.dtype off or bf16).
  double loss_scale = 1;
  // Some rank's gradient held inf/NaN, so every rank skipped this step's
  // optimizer update (fp16 loss scaling); skipped_steps counts them so far.
  bool skipped = false;
  int skipped_steps = 0;
  double elapsed_s = 0;
  std::int64_t peak_rss_bytes = 0;  // the process's, since it started
  // Model state this rank holds at the end of the step (bytes): parameters
  // (fp32 master and compute copies, gathered units still held),
  // gradients, optimizer state (AdamW moments).
  std::int64_t param_bytes = 0;
  std::int64_t grad_bytes = 0;
  std::int64_t optimizer_bytes = 0;
  // The most model state held at once during the step: the above plus
  // gathered units and full gradients in flight (ZeRO-3).
  std::int64_t model_state_peak_bytes = 0;
  // The most activation memory live at once during the step: CPU tensors
  // allocated on the rank's thread that are neither model state nor
  // collective scratch (saved activations, temporaries, gradients before
  // they reach their buffers), counted by the engine's allocator
  // (worker/engine/memory_tracker.h); 0 where it cannot count (CUDA).
  std::int64_t activation_peak_bytes = 0;
};

struct TrainResult {
  int steps = 0;
  double final_loss = 0;
  // FNV-1a 64 of every parameter's bytes in registration order, as 16 hex
  // digits: ranks with equal digests hold bitwise-equal parameters.
  std::string param_digest;
  std::int64_t param_count = 0;
  // Every parameter's values in registration order, flattened; filled only
  // when TrainHooks::collect_final_parameters is set (tests).
  std::vector<float> final_parameters;
  // The checkpoint step this run resumed from; 0 when it started afresh.
  int resumed_from_step = 0;
};

using StepCallback = std::function<void(const StepReport&)>;
using SetupCallback = std::function<void(const TrainSetup&)>;

struct TrainHooks {
  StepCallback on_step;    // after every optimizer step
  SetupCallback on_setup;  // once, before the first step
  bool collect_final_parameters = false;
  // Tests: called with each 1-based step after its gradients are reduced;
  // returning true writes +inf into this rank's reduced gradient before the
  // loss scaler checks it (an overflow on this rank only).
  std::function<bool(int step)> inject_inf_grad;
  // Tests: called after each 1-based step with the FNV-1a 64 digest (hex) of
  // this rank's fp32 master weights (its shard under ZeRO 1-3), so a test
  // sees which steps changed the model.
  std::function<void(int step, const std::string& digest)> on_master_digest;
  // Tests: end the run after this 1-based step (and its checkpoint), as a
  // preemption would; 0 runs every step.
  int stop_after_step = 0;
};

// OK unless the job asks for `device: cuda` and this process sees no CUDA
// device for its local rank: FAILED_PRECONDITION "device: cuda but no CUDA
// device is visible ..." (worker_command.cc checks it before any
// rendezvous, so nothing starts).
Status CheckDeviceVisible(const config::JobConfig& job, const RankContext& ctx);

// `store` must be non-null and shared by all ranks of the job attempt.
// `on_setup` (optional) runs once, after the communicator formed and before
// the first step. Features the job asks for that this engine lacks are
// UNIMPLEMENTED errors. `device: cuda` trains rank r on cuda:local_rank
// (CheckDeviceVisible first) with nccl for `backend: auto`.
// The communicator is the job's `backend` (comm/communicator_factory.h;
// `auto` means gloo unless the caller resolved it, as worker_command.cc
// does for MPI launches).
StatusOr<TrainResult> RunTraining(
    const config::JobConfig& job, const RankContext& ctx,
    std::shared_ptr<rendezvous::KeyValueStore> store,
    const StepCallback& on_step, const SetupCallback& on_setup = nullptr);
StatusOr<TrainResult> RunTraining(
    const config::JobConfig& job, const RankContext& ctx,
    std::shared_ptr<rendezvous::KeyValueStore> store, const TrainHooks& hooks);

}  // namespace dstrain::engine
