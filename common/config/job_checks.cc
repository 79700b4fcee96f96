#include "common/config/job_checks.h"

#include <cstdio>
#include <string>

namespace dstrain::config::internal {
namespace {

std::string Num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

std::string Int(long long x) { return std::to_string(x); }

}  // namespace

std::vector<Status> CombinationErrors(const JobConfig& job, const Origins& o) {
  std::vector<Status> out;
  if (job.nodes.max < job.nodes.min) {
    out.push_back(InvalidArgument(
        o.Ref("nodes.max", Int(job.nodes.max)) +
        " must be >= " + o.Ref("nodes.min", Int(job.nodes.min))));
  }
  if (job.model.d_model % job.model.heads != 0) {
    out.push_back(InvalidArgument(
        o.Ref("model.heads", Int(job.model.heads)) + " must divide " +
        o.Ref("model.d_model", Int(job.model.d_model))));
  }
  // The text dataset feeds raw bytes, so every byte value needs a row in the
  // embedding and nothing else ever appears.
  if (job.data.type == "text" && job.model.vocab != 256) {
    out.push_back(InvalidArgument(
        o.Ref("model.vocab", Int(job.model.vocab)) + " must be 256 with " +
        o.Ref("data.type", job.data.type) + " (the text dataset feeds bytes)"));
  }
  if (job.train.schedule.warmup_steps > job.train.steps) {
    out.push_back(InvalidArgument(
        o.Ref("train.schedule.warmup_steps",
              Int(job.train.schedule.warmup_steps)) +
        " must be <= " + o.Ref("train.steps", Int(job.train.steps))));
  }
  if (job.backend == Backend::kNccl && job.device != Device::kCuda) {
    out.push_back(InvalidArgument(o.Ref("backend", BackendName(job.backend)) +
                                  " needs `device` = cuda, but " +
                                  o.Ref("device", DeviceName(job.device))));
  }
  // The engine's collectives on GPU tensors are NCCL's.
  if (job.device == Device::kCuda && job.backend != Backend::kNccl &&
      job.backend != Backend::kAuto) {
    out.push_back(InvalidArgument(o.Ref("device", DeviceName(job.device)) +
                                  " trains with backend nccl (or auto), not " +
                                  o.Ref("backend", BackendName(job.backend))));
  }
  // A rank is declared hung only after missing several heartbeats.
  if (job.fault_tolerance.hang_timeout_s <= job.fault_tolerance.heartbeat_s) {
    out.push_back(
        InvalidArgument(o.Ref("fault_tolerance.hang_timeout_s",
                              Num(job.fault_tolerance.hang_timeout_s)) +
                        " must be greater than " +
                        o.Ref("fault_tolerance.heartbeat_s",
                              Num(job.fault_tolerance.heartbeat_s))));
  }
  // A factor of 1 or less would call half the ranks slow.
  const double factor = job.fault_tolerance.straggler_factor;
  if (factor != 0 && factor <= 1) {
    out.push_back(InvalidArgument(
        o.Ref("fault_tolerance.straggler_factor", Num(factor)) +
        " must be 0 (not watched) or greater than 1 (e.g. 1.5: half as slow "
        "again as the median)"));
  }
  return out;
}

Status CheckCombinations(const JobConfig& job, const Origins& o) {
  std::vector<Status> errors = CombinationErrors(job, o);
  return errors.empty() ? Status::Ok() : errors.front();
}

Status CheckJobFilePolicy(const JobConfig& job, const Origins& o) {
  // On a CPU, bf16 is the mixed precision to use: fp16 needs the loss
  // scaler and gains nothing there. The engine can still run it, which its
  // tests use to exercise the scaler without a GPU.
  if (job.amp.dtype == AmpDtype::kFp16 && job.device != Device::kCuda) {
    return InvalidArgument(o.Ref("amp.dtype", AmpDtypeName(job.amp.dtype)) +
                           " needs `device` = cuda, but " +
                           o.Ref("device", DeviceName(job.device)) +
                           " (use bf16 on CPUs)");
  }
  return Status::Ok();
}

}  // namespace dstrain::config::internal
