#pragma once
// The trainer's side of checkpoints (worker/engine/trainer.cc): resume
// before the first step, save after a step, and on request save now or
// restore the newest.
//
//   TrainCheckpoints ckpt(job, ctx, global_batch);
//   StatusOr<ResumePoint> at = ckpt.Resume(engine, comm);   // collective
//   for (step = at->step; step < steps; ++step) {
//     ...train data step at->data_step + (step - at->step)...
//     ckpt.AfterStep(step + 1, data_position, scaler, engine, comm);
//   }
//
// Resume happens when ctx.resume is set (`dstrain launch --resume`,
// DSTRAIN_RESUME=1) or ctx.attempt > 0 (a restart); with no usable
// checkpoint the run starts from step 0 and says so. The data position
// (global sample index) picks the next batch exactly where the saved run
// left off; it must fall on a step boundary of the current global batch.
// Rank 0 removes leftovers of crashed saves in the checkpoint directory
// first. Saves happen after every `checkpoint.every_steps`-th step and,
// with checkpoint.save_final, after the last step (train.steps).
//
// checkpoint.async: the save takes a host copy of the rank's shard and a
// writer thread writes it while training goes on; AfterStep publishes it
// (PublishCheckpoint) at the first step where every rank's writer has
// finished, asked by one small all-reduce per step meanwhile; the next due
// save waits for it first, and Finish (after the last step) completes it.
//
// Messages: rank 0 prints what it resumed from and what it saved to
// stdout; a rank that finds a bad checkpoint names it on stderr. Methods
// are collectives; the training thread only.

#include <chrono>
#include <cstdint>
#include <future>
#include <optional>
#include <string>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/amp/loss_scaler_state.h"
#include "worker/base/rank_context.h"
#include "worker/checkpoint/checkpointer.h"
#include "worker/comm/communicator.h"
#include "worker/zero/zero_engine.h"

namespace dstrain::checkpoint {

struct ResumePoint {
  bool resumed = false;
  std::string path;            // the checkpoint loaded
  std::int64_t step = 0;       // optimizer steps already done
  std::int64_t data_step = 0;  // first data step (of the current global
                               // batch) to train on
  // The saved loss scaler state, when the checkpoint has one.
  std::optional<amp::LossScalerState> loss_scaler;
};

class TrainCheckpoints {
 public:
  TrainCheckpoints(const config::JobConfig& job, const base::RankContext& ctx,
                   std::int64_t global_batch);

  const std::string& dir() const { return dir_; }
  bool saves() const { return every_ > 0; }

  // Before the first step: rank 0 removes leftovers of crashed saves, and
  // when the run resumes (ctx.resume, or a restart) Restore().
  StatusOr<ResumePoint> Resume(zero::ZeroEngine& engine,
                               comm::Communicator& comm);

  // Loads the newest complete checkpoint into `engine`; `resumed` is false
  // (and nothing changed) when there is none.
  StatusOr<ResumePoint> Restore(zero::ZeroEngine& engine,
                                comm::Communicator& comm);

  // `step`: optimizer steps done (1-based); `data_position`: the next
  // global sample index. Saves when `step` is a multiple of every_steps, or
  // is the last step and checkpoint.save_final is on (every_steps > 0).
  Status AfterStep(std::int64_t step, std::int64_t data_position,
                   const std::optional<amp::LossScalerState>& loss_scaler,
                   zero::ZeroEngine& engine, comm::Communicator& comm);

  // Saves `step` now, whatever every_steps says, after completing an
  // asynchronous save in flight; synchronous even with checkpoint.async.
  Status SaveNow(std::int64_t step, std::int64_t data_position,
                 const std::optional<amp::LossScalerState>& loss_scaler,
                 zero::ZeroEngine& engine, comm::Communicator& comm);

  // After the last step: completes an asynchronous save still in flight.
  Status Finish(zero::ZeroEngine& engine, comm::Communicator& comm);

  // Waits for a writer still running (an error path left it): its files
  // stay a `.tmp-` directory, which the next run cleans.
  ~TrainCheckpoints();

 private:
  struct Pending {
    SaveRequest request;
    std::future<ShardWrite> write;
    std::chrono::steady_clock::time_point started;
  };
  Status Publish(Pending& pending, zero::ZeroEngine& engine,
                 comm::Communicator& comm);
  SaveRequest Request(
      std::int64_t step, std::int64_t data_position,
      const std::optional<amp::LossScalerState>& loss_scaler) const;

  std::string dir_;
  std::string job_name_;
  std::string model_hash_;
  int rank_ = 0;
  int attempt_ = 0;
  bool resume_ = false;
  int every_ = 0;
  std::int64_t final_step_ = 0;  // 0: no save at the end beyond every_
  int keep_ = 3;
  bool async_ = false;
  std::int64_t global_batch_ = 1;
  std::optional<Pending> pending_;
};

}  // namespace dstrain::checkpoint
