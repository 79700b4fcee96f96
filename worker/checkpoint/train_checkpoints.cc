#include "worker/checkpoint/train_checkpoints.h"

#include <chrono>
#include <cstdio>

#include "common/contract/checkpoint_dir.h"
#include "common/log.h"
#include "common/strings.h"
#include "worker/checkpoint/checkpointer.h"
#include "worker/checkpoint/manifest.h"

namespace dstrain::checkpoint {
namespace {

// A line for the person running the job; warnings go to stderr.
void Say(FILE* to, const std::string& line) {
  if (to == stderr) {
    log::PrintError("dstrain worker: " + line);
  } else {
    log::Print("dstrain worker: " + line);
  }
}

void SaySaved(int rank, const SaveOutcome& out, std::int64_t step,
              std::chrono::steady_clock::time_point t0, const char* how) {
  if (rank != 0) return;
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  Say(stdout, "checkpoint step " + std::to_string(step) + " saved to " +
                  out.path + " (" +
                  StrFormat("%.1f MB in %.2f s%s", out.bytes / 1e6, s, how) +
                  ")");
}

}  // namespace

TrainCheckpoints::TrainCheckpoints(const config::JobConfig& job,
                                   const base::RankContext& ctx,
                                   std::int64_t global_batch)
    : dir_(contract::ResolveCheckpointDir(job, ctx.run_dir)),
      job_name_(job.name),
      model_hash_(ModelHash(job.model)),
      rank_(ctx.rank),
      attempt_(ctx.attempt),
      resume_(ctx.resume || ctx.attempt > 0),
      every_(job.checkpoint.every_steps),
      final_step_(job.checkpoint.save_final ? job.train.steps : 0),
      keep_(job.checkpoint.keep),
      async_(job.checkpoint.async),
      global_batch_(global_batch > 0 ? global_batch : 1) {}

TrainCheckpoints::~TrainCheckpoints() {
  if (pending_.has_value() && pending_->write.valid()) pending_->write.wait();
}

StatusOr<ResumePoint> TrainCheckpoints::Resume(zero::ZeroEngine& engine,
                                               comm::Communicator& comm) {
  if (rank_ == 0 && (every_ > 0 || resume_)) {
    RemoveLeftovers(dir_, [](const std::string& s) { Say(stdout, s); });
  }
  if (!resume_) return ResumePoint{};
  DSTRAIN_ASSIGN_OR_RETURN(ResumePoint at, Restore(engine, comm));
  if (!at.resumed && rank_ == 0) {
    Say(stdout, "no complete checkpoint in " + dir_ + ": starting from step 0");
  }
  return at;
}

StatusOr<ResumePoint> TrainCheckpoints::Restore(zero::ZeroEngine& engine,
                                                comm::Communicator& comm) {
  ResumePoint at;
  StatusOr<RestoreOutcome> r =
      RestoreNewest(dir_, model_hash_, engine, comm,
                    [](const std::string& s) { Say(stderr, "warning: " + s); });
  if (!r.ok()) return r.status();
  if (!r->found) return at;
  const Manifest& m = r->manifest;
  if (m.data_position % global_batch_ != 0) {
    return FailedPrecondition(
        r->path + " stopped at global sample " +
        std::to_string(m.data_position) +
        ", which is not a step boundary of "
        "this job's global batch (" +
        std::to_string(global_batch_) +
        " = world size x micro_batch x grad_accum): keep the global batch a "
        "divisor of the saved position");
  }
  at.resumed = true;
  at.path = r->path;
  at.step = m.step;
  at.data_step = m.data_position / global_batch_;
  at.loss_scaler = m.loss_scaler;
  if (rank_ == 0) {
    Say(stdout,
        "resuming from step " + std::to_string(m.step) + " (" + r->path +
            ", saved by " + std::to_string(m.world_size) + " rank" +
            (m.world_size == 1 ? "" : "s") + " at ZeRO stage " +
            std::to_string(m.zero_stage) +
            (m.world_size != engine.world() || m.zero_stage != engine.stage()
                 ? ", resharded"
                 : "") +
            (r->rng_restored ? "" : "; random generators not restored") + ")");
  }
  return at;
}

Status TrainCheckpoints::Publish(Pending& pending, zero::ZeroEngine& engine,
                                 comm::Communicator& comm) {
  const ShardWrite wrote = pending.write.get();
  DSTRAIN_ASSIGN_OR_RETURN(
      SaveOutcome out, PublishCheckpoint(pending.request, wrote, engine, comm));
  SaySaved(rank_, out, pending.request.step, pending.started,
           ", written while training went on");
  return Status::Ok();
}

Status TrainCheckpoints::AfterStep(
    std::int64_t step, std::int64_t data_position,
    const std::optional<amp::LossScalerState>& loss_scaler,
    zero::ZeroEngine& engine, comm::Communicator& comm) {
  const bool due = every_ > 0 && (step % every_ == 0 || step == final_step_);
  if (pending_.has_value()) {
    // Every rank asks at the same steps, so all publish at the same one; a
    // due save first waits for this rank's writer.
    if (due) pending_->write.wait();
    const bool written = pending_->write.wait_for(std::chrono::seconds(0)) ==
                         std::future_status::ready;
    DSTRAIN_ASSIGN_OR_RETURN(bool all, EveryRank(written, engine, comm));
    if (all) {
      Pending done = std::move(*pending_);
      pending_.reset();
      DSTRAIN_RETURN_IF_ERROR(Publish(done, engine, comm));
    }
  }
  if (!due) return Status::Ok();
  const auto t0 = std::chrono::steady_clock::now();
  SaveRequest req = Request(step, data_position, loss_scaler);
  if (!async_) {
    DSTRAIN_ASSIGN_OR_RETURN(SaveOutcome out,
                             SaveCheckpoint(req, engine, comm));
    SaySaved(rank_, out, step, t0, "");
    return Status::Ok();
  }
  auto snap =
      std::make_shared<ShardSnapshot>(TakeShardSnapshot(engine, /*copy=*/true));
  req.optimizer_step = snap->optimizer_step;
  Pending p;
  p.request = req;
  p.started = t0;
  p.write = std::async(std::launch::async, [req, snap] {
    return WriteShardSnapshot(req.dir, req.step, req.attempt, *snap);
  });
  pending_ = std::move(p);
  return Status::Ok();
}

SaveRequest TrainCheckpoints::Request(
    std::int64_t step, std::int64_t data_position,
    const std::optional<amp::LossScalerState>& loss_scaler) const {
  SaveRequest req;
  req.dir = dir_;
  req.job_name = job_name_;
  req.model_hash = model_hash_;
  req.step = step;
  req.data_position = data_position;
  req.global_batch = global_batch_;
  req.attempt = attempt_;
  req.keep = keep_;
  req.loss_scaler = loss_scaler;
  return req;
}

Status TrainCheckpoints::SaveNow(
    std::int64_t step, std::int64_t data_position,
    const std::optional<amp::LossScalerState>& loss_scaler,
    zero::ZeroEngine& engine, comm::Communicator& comm) {
  DSTRAIN_RETURN_IF_ERROR(Finish(engine, comm));
  const auto t0 = std::chrono::steady_clock::now();
  DSTRAIN_ASSIGN_OR_RETURN(
      const SaveOutcome out,
      SaveCheckpoint(Request(step, data_position, loss_scaler), engine, comm));
  SaySaved(rank_, out, step, t0, "");
  return Status::Ok();
}

Status TrainCheckpoints::Finish(zero::ZeroEngine& engine,
                                comm::Communicator& comm) {
  if (!pending_.has_value()) return Status::Ok();
  Pending done = std::move(*pending_);
  pending_.reset();
  return Publish(done, engine, comm);
}

}  // namespace dstrain::checkpoint
