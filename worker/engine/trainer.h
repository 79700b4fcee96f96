#pragma once
// One rank's training run: data parallelism with ZeRO stages 0-3
// (worker/zero/zero_engine.h), mixed precision (worker/amp), activation
// checkpointing and sharded checkpoints, for the model the job names
// (worker/engine/trainable_model.h).
//
//   DSTRAIN_ASSIGN_OR_RETURN(auto trainer,
//                            Trainer::Create(job, ctx, store, &observer));
//   DSTRAIN_ASSIGN_OR_RETURN(TrainResult result, trainer->Run());
//
// or, step by step (what Run does):
//
//   while (!trainer->done()) DSTRAIN_RETURN_IF_ERROR(trainer->Step());
//   DSTRAIN_ASSIGN_OR_RETURN(TrainResult result, trainer->Finish());
//
// Create builds the model, data, communicators (bootstrapped through
// `store`, with the topology plan's sub-communicators from `ctx`) and the
// ZeRO engine, and resumes from the newest complete checkpoint when `ctx`
// asks (ctx.resume, or ctx.attempt > 0: a restart). Every method but the
// accessors is a collective: every rank of the job calls it in the same
// order. The job must be one job validation accepted (common/config);
// `device: cuda` trains rank r on cuda:local_rank with nccl for
// `backend: auto`.
//
// Errors: libtorch exceptions never escape; a failure comes back as a
// Status naming the rank ("rank 1: ..."). After an error the trainer may
// only be destroyed. Not thread-safe: the training thread only.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/contract/metrics_lines.h"
#include "common/rendezvous/kv_store.h"
#include "common/status.h"
#include "worker/base/rank_context.h"

namespace dstrain::engine {

using base::RankContext;

// What a rank set up, reported once before the first step.
struct TrainSetup {
  std::string backend;  // e.g. "gloo"
  std::int64_t param_count = 0;
  std::int64_t dataset_tokens = 0;
  int dataset_files = 0;
  // The data as data::OpenDataset describes it: "2 token files, 12.6M
  // uint16 tokens".
  std::string dataset;
  std::int64_t global_batch = 0;     // sequences per optimizer step
  std::int64_t tokens_per_step = 0;  // global_batch * seq_len
  double setup_s = 0;                // from Create's start
  int resumed_from_step = 0;         // 0: started afresh
};

// One optimizer step as this rank saw it: exactly what the worker writes
// on its metrics line (common/contract/metrics_lines.h).
using StepReport = contract::StepMetrics;

struct TrainResult {
  int steps = 0;
  double final_loss = 0;
  // FNV-1a 64 of every parameter's bytes in registration order, as 16 hex
  // digits: ranks with equal digests hold bitwise-equal parameters.
  std::string param_digest;
  std::int64_t param_count = 0;
  // The checkpoint step this run resumed from; 0 when it started afresh.
  int resumed_from_step = 0;
  // Asked to stop (TrainObserver::StopRequested on some rank): every rank
  // ended after the same step, `steps`, with a checkpoint of it.
  bool stopped = false;
};

// What a run tells whoever watches it. Every method is called on the
// training thread, inside Create, Step or Restore; the defaults do nothing.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  // Once, after the communicators formed and before the first step.
  virtual void OnSetup(const TrainSetup& setup) {}
  // After every optimizer step (skipped ones included).
  virtual void OnStep(const StepReport& step) {}
  // At the start of every step, inside its timing (fault injection's
  // delays).
  virtual void BeforeStep(int step) {}
  // Whether this rank was asked to stop (a preemption signal). Asked once
  // per step; when any rank says yes, every rank ends after that step
  // with a checkpoint of it (the ranks agree in the step's reduction).
  virtual bool StopRequested() { return false; }
  // Whether to compute OnMasterDigest's digest (a copy of the weights).
  virtual bool WantsMasterDigests() const { return false; }
  // After each step: the FNV-1a 64 digest (hex) of this rank's fp32 master
  // weights (its shard under ZeRO 1-3), so a test sees which steps changed
  // the model.
  virtual void OnMasterDigest(int step, const std::string& digest) {}
  // Fault injection: true writes +inf into this rank's reduced gradient at
  // this 1-based step, before the loss scaler checks it (an overflow on
  // this rank only).
  virtual bool InjectInfGradient(int step) { return false; }
};

class Trainer {
 public:
  // `store` must be shared by all ranks of the job attempt; `observer` may
  // be null and must outlive the trainer.
  static StatusOr<std::unique_ptr<Trainer>> Create(
      const config::JobConfig& job, const RankContext& ctx,
      std::shared_ptr<rendezvous::KeyValueStore> store,
      TrainObserver* observer = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  int step() const;         // optimizer steps done (resumed ones included)
  int total_steps() const;  // train.steps
  // Every step done, or the ranks agreed to stop (TrainResult::stopped).
  bool done() const { return step() >= total_steps() || stopped(); }
  bool stopped() const;
  const TrainSetup& setup() const;

  // One optimizer step: grad_accum micro-batches of forward and backward,
  // the reduction, the loss scaler's verdict, clipping and AdamW; then the
  // checkpoint when one is due (checkpoint.every_steps). Must not be
  // called when done().
  Status Step();

  // Writes a checkpoint of the current step now (after any asynchronous
  // save in flight), whatever checkpoint.every_steps says.
  Status Save();

  // Loads the newest complete checkpoint of the job's checkpoint
  // directory, resharding it to this world; training continues from its
  // step with the data that follows it. NOT_FOUND when there is none.
  Status Restore();

  // After the last Step: completes an asynchronous save still in flight,
  // gathers the full parameters (ZeRO-3) for the digest, and waits until
  // every rank got here.
  StatusOr<TrainResult> Finish();

  // Steps until done(), then Finish().
  StatusOr<TrainResult> Run();

  // Every parameter's values in registration order, flattened to fp32;
  // valid after Finish (tests compare ranks and runs with it).
  std::vector<float> Parameters() const;

 private:
  class Impl;
  explicit Trainer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// OK unless the job asks for `device: cuda` and this process sees no CUDA
// device for its local rank: FAILED_PRECONDITION "device: cuda but no CUDA
// device is visible ..." The worker checks it before any rendezvous, so
// nothing starts.
Status CheckDeviceVisible(const config::JobConfig& job, const RankContext& ctx);

}  // namespace dstrain::engine
