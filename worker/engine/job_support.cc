#include "worker/engine/job_support.h"

#include <filesystem>

namespace dstrain::engine {
namespace {

Status Unsupported(const std::string& what) {
  return Unimplemented(what + " is not supported by this engine yet");
}

}  // namespace

Status CheckEngineSupports(const config::JobConfig& job,
                           const RankContext& ctx) {
  if (ctx.world_size < 1 || ctx.rank < 0 || ctx.rank >= ctx.world_size) {
    return InvalidArgument("rank " + std::to_string(ctx.rank) +
                           " is outside a world of " +
                           std::to_string(ctx.world_size));
  }
  const bool cuda = job.device == config::Device::kCuda;
  if (job.backend == config::Backend::kNccl && !cuda) {
    return InvalidArgument("`backend: nccl` needs `device: cuda`");
  }
  if (cuda && job.backend != config::Backend::kNccl &&
      job.backend != config::Backend::kAuto) {
    return InvalidArgument(std::string("`device: cuda` trains with backend "
                                       "nccl (or auto), not ") +
                           config::BackendName(job.backend));
  }
  if (job.zero.stage < 0 || job.zero.stage > 3 || job.zero.prefetch < 0) {
    return InvalidArgument(
        "`zero.stage` must be 0..3 and `zero.prefetch` >= 0");
  }
  if (job.model.type != "gpt") {
    return Unsupported("`model.type: " + job.model.type + "`");
  }
  if (job.data.type != "text") {
    return Unsupported("`data.type: " + job.data.type + "`");
  }
  if (job.train.optimizer.type != "adamw") {
    return Unsupported("`train.optimizer.type: " + job.train.optimizer.type +
                       "`");
  }
  const config::ModelConfig& m = job.model;
  if (m.vocab < 256) {
    return InvalidArgument("`model.vocab` = " + std::to_string(m.vocab) +
                           " is below 256, the byte vocabulary of text data");
  }
  if (m.layers < 1 || m.d_model < 1 || m.heads < 1 || m.seq_len < 1 ||
      m.d_model % m.heads != 0) {
    return InvalidArgument(
        "model needs layers, d_model, heads, seq_len >= 1 and heads "
        "dividing d_model");
  }
  if (job.train.micro_batch < 1 || job.train.grad_accum < 1 ||
      job.train.steps < 0) {
    return InvalidArgument(
        "train needs micro_batch >= 1, grad_accum >= 1, steps >= 0");
  }
  if (job.data.path.empty()) return InvalidArgument("`data.path` is empty");
  return Status::Ok();
}

std::string ResolveDataPath(const config::JobConfig& job) {
  std::filesystem::path p(job.data.path);
  if (p.is_relative() && !job.source_path.empty() &&
      job.source_path.front() != '<') {
    p = std::filesystem::path(job.source_path).parent_path() / p;
  }
  return p.string();
}

}  // namespace dstrain::engine
