#include "cli/plan/job_plan.h"

#include <cmath>
#include <cstdio>

#include "cli/plan/comm_estimate.h"
#include "common/sizing/gpt_size.h"
#include "common/units.h"

namespace dstrain::cli {
namespace {

std::string Gib(std::int64_t bytes) { return ApproxBinaryBytes(bytes); }

// One line: the job as configured, and what to change when it does not fit.
std::string Verdict(const config::JobConfig& job, const JobPlan& p) {
  const sizing::StageMemory& s = p.memory.configured(job);
  const std::int64_t need = job.recompute.enabled ? s.total_with_recompute
                                                  : s.total_without_recompute;
  std::string line = "zero.stage " + std::to_string(job.zero.stage) +
                     (job.recompute.enabled ? " with" : " without") +
                     " checkpointing needs " + Gib(need) + " per rank, " +
                     p.device.description + " leaves " +
                     Gib(p.device.usable()) + ": ";
  if (p.fits) return line + "fits";
  line += "does not fit";
  if (!job.recompute.enabled && s.fit == sizing::Fit::kFitsWithRecompute) {
    return line + "; set recompute.enabled: true (" +
           Gib(s.total_with_recompute) + ")";
  }
  for (const sizing::StageMemory& o : p.memory.stages) {
    if (o.stage > job.zero.stage && o.fit != sizing::Fit::kDoesNotFit) {
      return line + "; set zero.stage: " + std::to_string(o.stage) +
             (o.fit == sizing::Fit::kFits ? ""
                                          : " and recompute.enabled: true");
    }
  }
  if (p.smallest.has_value()) {
    return line + "; it needs " + std::to_string(p.smallest->nodes) +
           " nodes of " + std::to_string(p.shape.procs_per_node) +
           " ranks with zero.stage: " + std::to_string(p.smallest->stage) +
           (p.smallest->recompute ? " and recompute.enabled: true" : "");
  }
  return line +
         "; no stage or node count fits: one micro-batch's activations "
         "alone exceed the device; lower train.micro_batch or model.seq_len";
}

// Sizes are int64 bytes: a model or batch whose figures would not fit one
// (a typo of a few digits) is refused rather than wrapped.
Status CheckSizeable(const config::JobConfig& job, const PlanShape& shape) {
  const config::ModelConfig& m = job.model;
  const long double c = m.d_model, f = m.d_ff > 0 ? m.d_ff : 4.0L * c;
  const long double params = static_cast<long double>(m.vocab) * c +
                             static_cast<long double>(m.seq_len) * c +
                             m.layers * (4 * c * c + 2 * c * f + 8 * c + f);
  const long double tokens = static_cast<long double>(job.train.micro_batch) *
                             m.seq_len * job.train.grad_accum;
  const long double activations =
      tokens * (m.layers * 4 * (9 * c + 2 * f) + 8 * c +
                static_cast<long double>(m.vocab) * 12);
  if (params > 1e15L || activations > 1e18L) {
    return InvalidArgument(
        "the model (" + std::to_string(static_cast<double>(params)) +
        " parameters, " +
        std::to_string(static_cast<double>(activations) / kGiB) +
        " GiB of activations per micro-batch) is beyond what dstrain plan "
        "sizes (10^15 parameters, 10^18 bytes); check model.* and "
        "train.micro_batch");
  }
  if (shape.nodes > 1'000'000 ||
      static_cast<long long>(shape.nodes) * shape.procs_per_node >
          (1LL << 24)) {
    return InvalidArgument("--nodes x --procs-per-node must be at most " +
                           std::to_string(1 << 24) + " ranks");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<RankDevice> ResolveRankDevice(const config::JobConfig& job,
                                       int procs_per_node,
                                       const DeviceChoice& c) {
  RankDevice d;
  if (!c.gpu.empty()) {
    const sizing::DeviceSpec* spec = sizing::FindDevice(c.gpu);
    if (spec == nullptr) {
      return InvalidArgument(
          "--gpu " + c.gpu + ": not a device dstrain knows; known: " +
          sizing::KnownDeviceNames() + " (or give --device-memory GiB)");
    }
    d.gpu = true;
    d.dense_tflops = spec->dense_tflops;
    d.memory_bytes = static_cast<std::int64_t>(spec->memory_gib * kGiB);
    d.description = std::string(spec->name);
  } else if (c.device_memory_gib <= 0 && job.device == config::Device::kCuda) {
    if (c.local_gpu_bytes <= 0) {
      return InvalidArgument(
          "device: cuda, but this node has no NVIDIA GPU to size the job "
          "for; give --gpu MODEL or --device-memory GiB");
    }
    d.gpu = true;
    d.memory_bytes = c.local_gpu_bytes;
    const sizing::DeviceSpec* spec = sizing::FindDevice(c.local_gpu_name);
    d.dense_tflops = spec != nullptr ? spec->dense_tflops : 0;
    d.description = c.local_gpu_name;
  }
  if (c.device_memory_gib > 0) {
    if (!std::isfinite(c.device_memory_gib) || c.device_memory_gib > 1e6) {
      return InvalidArgument("--device-memory must be a size in GiB, > 0");
    }
    d.memory_bytes = static_cast<std::int64_t>(c.device_memory_gib * kGiB);
    d.gpu = d.gpu || job.device == config::Device::kCuda || !c.gpu.empty();
    if (d.description.empty()) d.description = "device";
  }
  if (d.memory_bytes > 0) {
    d.reserve_bytes = d.gpu ? kGpuReserveBytes : 0;
    d.description += " (" + Gib(d.memory_bytes) + ")";
    return d;
  }
  // A CPU job: the node's memory, shared by its ranks.
  if (c.host_memory_bytes <= 0) {
    return InvalidArgument(
        "cannot read this node's memory to size the job for; give "
        "--device-memory GiB");
  }
  const int ranks = procs_per_node < 1 ? 1 : procs_per_node;
  d.memory_bytes = c.host_memory_bytes / ranks;
  d.reserve_bytes = kCpuReservePerRank;
  d.description = "host memory " + Gib(c.host_memory_bytes) + " / " +
                  std::to_string(ranks) + " rank" + (ranks == 1 ? "" : "s");
  return d;
}

StatusOr<JobPlan> MakeJobPlan(const config::JobConfig& job,
                              const PlanShape& shape,
                              const RankDevice& device) {
  if (shape.nodes < 1) return InvalidArgument("--nodes must be >= 1");
  if (shape.procs_per_node < 1) {
    return InvalidArgument("--procs-per-node must be >= 1");
  }
  if (job.model.type != "gpt") {
    return InvalidArgument("model.type " + job.model.type +
                           ": dstrain plan sizes the gpt model only");
  }
  DSTRAIN_RETURN_IF_ERROR(CheckSizeable(job, shape));
  JobPlan p;
  p.job = job;
  p.shape = shape;
  p.world = shape.nodes * shape.procs_per_node;
  p.device = device;
  p.memory = sizing::PlanMemory(job, p.world, device.usable());
  p.fits = sizing::FitsAsConfigured(job, p.memory);
  p.smallest =
      sizing::FindSmallestFit(job, shape.procs_per_node, device.usable());
  p.verdict = Verdict(job, p);
  p.rule_of_thumb_gb = sizing::RuleOfThumbGb(p.memory.params);
  p.flops_per_token = sizing::GptTrainFlopsPerToken(job.model);
  p.tokens_per_rank_step = std::int64_t{job.train.micro_batch} *
                           job.model.seq_len * job.train.grad_accum;
  if (device.dense_tflops > 0) {
    const double hardware = job.recompute.enabled ? 8.0 / 6.0 : 1.0;
    const double flops = p.flops_per_token * hardware *
                         static_cast<double>(p.tokens_per_rank_step);
    p.step_seconds_fast = flops / (device.dense_tflops * 1e12 * 0.5);
    p.step_seconds_slow = flops / (device.dense_tflops * 1e12 * 0.3);
  }

  sizing::StepCollectiveOptions co;
  co.stage = job.zero.stage;
  co.world = p.world;
  co.param_bytes = p.memory.param_bytes;
  co.grad_accum = job.train.grad_accum;
  co.reshard_after_forward = job.zero.reshard_after_forward;
  p.comm.calls = sizing::StepCollectives(p.memory.unit_numels, co);
  for (const sizing::CollectiveCall& c : p.comm.calls) {
    p.comm.sent_bytes_per_rank += sizing::SentBytesPerRank(c, p.world);
  }
  if (p.world == 1) {
    p.comm.seconds = 0;
    p.comm.note = "one rank: no communication";
  } else if (shape.cluster.empty()) {
    p.comm.note =
        "no cluster description: give --cluster FILE (or topology.cluster) "
        "for the predicted time";
  } else {
    DSTRAIN_ASSIGN_OR_RETURN(
        FabricTimes t, PredictCollectives(shape.cluster, shape.nodes,
                                          shape.procs_per_node, p.comm.calls));
    p.comm.fabric = t.fabric;
    p.comm.call_seconds = t.seconds;
    double sum = 0;
    for (double s : t.seconds) sum += s;
    p.comm.seconds = sum;
  }
  return p;
}

}  // namespace dstrain::cli
