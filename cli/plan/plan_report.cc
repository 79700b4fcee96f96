#include "cli/plan/plan_report.h"

#include <cstdio>
#include <vector>

#include "common/json_writer.h"
#include "common/text_table.h"
#include "common/units.h"

namespace dstrain::cli {
namespace {

std::string Fixed(double v, const char* fmt = "%.2f") {
  char b[48];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

// A table cell: "512 B", "37.0 MiB", "12.3 GiB".
std::string Size(std::int64_t bytes) { return ApproxBinaryBytes(bytes); }

std::string Count(std::int64_t n) {
  if (n >= 1'000'000'000) return Fixed(n / 1e9, "%.2fB");
  if (n >= 1'000'000) return Fixed(n / 1e6, "%.2fM");
  if (n >= 1'000) return Fixed(n / 1e3, "%.1fk");
  return std::to_string(n);
}

const char* DtypeName(const config::JobConfig& job) {
  switch (job.amp.dtype) {
    case config::AmpDtype::kBf16:
      return "bf16 compute, fp32 master weights";
    case config::AmpDtype::kFp16:
      return "fp16 compute with loss scaling, fp32 master weights";
    case config::AmpDtype::kOff:
      return "fp32";
  }
  return "?";
}

const sizing::StageMemory& Configured(const JobPlan& p) {
  return p.memory.configured(p.job);
}

std::int64_t ConfiguredNeed(const JobPlan& p) {
  const sizing::StageMemory& s = Configured(p);
  return p.job.recompute.enabled ? s.total_with_recompute
                                 : s.total_without_recompute;
}

}  // namespace

std::string RuleOfThumbNote(const JobPlan& p) {
  const double rule = p.rule_of_thumb_gb * kGiB;
  const double need = static_cast<double>(ConfiguredNeed(p));
  const sizing::StageMemory& s = Configured(p);
  const double per_param = static_cast<double>(s.state.total()) /
                           static_cast<double>(p.memory.params);
  const std::int64_t act = p.job.recompute.enabled
                               ? p.memory.activations.with_recompute
                               : p.memory.activations.without_recompute;
  const double ratio = need / rule;
  std::string why;
  if (static_cast<double>(act) > static_cast<double>(s.state.total())) {
    why = "activations of " + std::to_string(p.job.train.micro_batch) + " x " +
          std::to_string(p.job.model.seq_len) + " tokens dominate (" +
          Size(act) + "), which the rule does not see";
  } else {
    why = "model state is " + Fixed(per_param, "%.1f") +
          " bytes per parameter here (zero.stage " +
          std::to_string(p.job.zero.stage) + " over " +
          std::to_string(p.world) + " rank" + (p.world == 1 ? "" : "s") + ", " +
          (p.memory.param_bytes == 2 ? "16-bit" : "fp32") +
          " compute, AdamW) against the rule's 4 plus 6 GB";
  }
  if (ratio > 0.8 && ratio < 1.25) {
    return "the rule and the computed figure agree within 25%; the rule "
           "ignores batch, sequence length, sharding and precision";
  }
  return std::string("the computed figure is ") + Fixed(ratio, "%.2g") +
         "x the rule's: " + why +
         "; the rule ignores batch, sequence length, sharding and precision";
}

std::string PlanText(const JobPlan& p) {
  const config::JobConfig& j = p.job;
  std::string out;
  out += "dstrain plan: " + j.name + ": gpt, " + Count(p.memory.params) +
         " parameters (" + std::to_string(p.memory.params) +
         ", as the engine builds it)\n";
  out += "  " + std::to_string(j.model.layers) + " layers, d_model " +
         std::to_string(j.model.d_model) + ", " +
         std::to_string(j.model.heads) + " heads, seq_len " +
         std::to_string(j.model.seq_len) + ", vocab " +
         std::to_string(j.model.vocab) + "; " + DtypeName(j) + "\n";
  out += "  " + std::to_string(p.shape.nodes) + " node" +
         (p.shape.nodes == 1 ? "" : "s") + " x " +
         std::to_string(p.shape.procs_per_node) + " rank" +
         (p.shape.procs_per_node == 1 ? "" : "s") + " = " +
         std::to_string(p.world) + "; micro_batch " +
         std::to_string(j.train.micro_batch) + " x grad_accum " +
         std::to_string(j.train.grad_accum) + "; each rank on " +
         p.device.description + ", " + Size(p.device.reserve_bytes) +
         " reserved\n\n";

  out +=
      "memory per rank (model state exact, step and activations "
      "estimated):\n";
  Table t({"stage", "params", "grads", "optimizer", "step", "activations",
           "total", "with ckpt", "verdict"});
  for (const sizing::StageMemory& s : p.memory.stages) {
    const std::int64_t model = s.state.total() + s.transient;
    t.Add({std::to_string(s.stage) + (s.stage == j.zero.stage ? " *" : ""),
           Size(s.state.params), Size(s.state.grads), Size(s.state.optimizer),
           Size(s.transient), Size(p.memory.activations.without_recompute),
           Size(s.total_without_recompute),
           Size(model + p.memory.activations.with_recompute),
           sizing::FitName(s.fit)});
  }
  out += t.Render("  ");
  out +=
      "  * the job's stage. step: gathered units and full gradients "
      "while a step runs; activations: one micro-batch (" +
      Size(p.memory.activations.with_recompute) +
      " with checkpointing); usable per rank " + Size(p.device.usable()) +
      "\n\n";

  out += "rule of thumb (params / 1e8 x 0.4 + 6): " +
         Fixed(p.rule_of_thumb_gb, "%.1f") +
         " GB; computed for the job: " + Size(ConfiguredNeed(p)) +
         " per rank\n  " + RuleOfThumbNote(p) + "\n\n";

  out += "compute: " + Fixed(p.flops_per_token / 1e9, "%.3g") +
         " GFLOP per token (6 per parameter + attention), " +
         std::to_string(p.tokens_per_rank_step) + " tokens per rank per step";
  if (p.step_seconds_fast.has_value()) {
    out += "\n  on " + p.device.description + ": " +
           FormatLatency(*p.step_seconds_fast) + " to " +
           FormatLatency(*p.step_seconds_slow) +
           " per step at 50% to 30% model-FLOPs utilisation";
  } else {
    out +=
        "\n  (no step-time estimate: give --gpu MODEL for a device's peak "
        "throughput)";
  }
  out += "\n\n";

  out += "communication per step (zero.stage " + std::to_string(j.zero.stage) +
         ", ring volume):\n";
  if (p.world > 1) {
    Table c({"collective", "buffer", "per step", "sent per rank",
             p.comm.seconds.has_value() ? "predicted" : ""});
    for (std::size_t i = 0; i < p.comm.calls.size(); ++i) {
      const sizing::CollectiveCall& k = p.comm.calls[i];
      c.Add({sizing::CollectiveName(k.kind), ApproxBinaryBytes(k.bytes),
             std::to_string(k.count),
             ApproxBinaryBytes(static_cast<std::int64_t>(
                 sizing::SentBytesPerRank(k, p.world))),
             i < p.comm.call_seconds.size()
                 ? FormatLatency(p.comm.call_seconds[i])
                 : ""});
    }
    out += c.Render("  ");
  }
  out +=
      "  total " +
      ApproxBinaryBytes(static_cast<std::int64_t>(p.comm.sent_bytes_per_rank)) +
      " sent per rank";
  if (p.comm.seconds.has_value() && p.world > 1) {
    out += ", predicted " + FormatLatency(*p.comm.seconds) + " on " +
           p.comm.fabric;
    if (p.step_seconds_fast.has_value()) {
      const double lo =
          *p.comm.seconds / (*p.comm.seconds + *p.step_seconds_slow);
      const double hi =
          *p.comm.seconds / (*p.comm.seconds + *p.step_seconds_fast);
      out += " (" + Fixed(100 * lo, "%.0f") + "-" + Fixed(100 * hi, "%.0f") +
             "% of the step if nothing overlaps)";
    }
  }
  if (!p.comm.note.empty()) out += "; " + p.comm.note;
  out += "\n\n";

  out += std::string(p.fits ? "fits: " : "DOES NOT FIT: ") + p.verdict + "\n";
  if (p.smallest.has_value()) {
    out += "smallest that fits: " + std::to_string(p.smallest->nodes) +
           " node" + (p.smallest->nodes == 1 ? "" : "s") + " of " +
           std::to_string(p.shape.procs_per_node) + " with zero.stage " +
           std::to_string(p.smallest->stage) +
           (p.smallest->recompute ? " and checkpointing" : "") + "\n";
  } else {
    out +=
        "smallest that fits: none (one micro-batch's activations exceed "
        "the device)\n";
  }
  return out;
}

std::string PlanJson(const JobPlan& p) {
  JsonWriter w;
  w.BeginObject();
  w.Key("job").String(p.job.name);
  w.Key("fits").Bool(p.fits);
  w.Key("verdict").String(p.verdict);
  w.Key("params").Int(p.memory.params);
  w.Key("nodes").Int(p.shape.nodes);
  w.Key("procs_per_node").Int(p.shape.procs_per_node);
  w.Key("world").Int(p.world);
  w.Key("zero_stage").Int(p.job.zero.stage);
  w.Key("recompute").Bool(p.job.recompute.enabled);
  w.Key("compute_dtype_bytes").Int(p.memory.param_bytes);
  w.Key("device").BeginObject();
  w.Key("description").String(p.device.description);
  w.Key("gpu").Bool(p.device.gpu);
  w.Key("memory_bytes").Int(p.device.memory_bytes);
  w.Key("reserve_bytes").Int(p.device.reserve_bytes);
  w.Key("usable_bytes").Int(p.device.usable());
  if (p.device.dense_tflops > 0)
    w.Key("dense_tflops").Number(p.device.dense_tflops);
  w.EndObject();
  w.Key("activations").BeginObject();
  w.Key("estimate").Bool(true);
  w.Key("micro_batch").Int(p.job.train.micro_batch);
  w.Key("without_recompute_bytes").Int(p.memory.activations.without_recompute);
  w.Key("with_recompute_bytes").Int(p.memory.activations.with_recompute);
  w.EndObject();
  w.Key("stages").BeginArray();
  for (const sizing::StageMemory& s : p.memory.stages) {
    w.BeginObject();
    w.Key("stage").Int(s.stage);
    w.Key("params_bytes").Int(s.state.params);
    w.Key("grads_bytes").Int(s.state.grads);
    w.Key("optimizer_bytes").Int(s.state.optimizer);
    w.Key("model_state_bytes").Int(s.state.total());
    w.Key("step_transient_bytes").Int(s.transient);
    w.Key("total_bytes").Int(s.total_without_recompute);
    w.Key("total_with_recompute_bytes").Int(s.total_with_recompute);
    w.Key("verdict").String(sizing::FitName(s.fit));
    w.EndObject();
  }
  w.EndArray();
  w.Key("smallest_fit");
  if (p.smallest.has_value()) {
    w.BeginObject();
    w.Key("nodes").Int(p.smallest->nodes);
    w.Key("stage").Int(p.smallest->stage);
    w.Key("recompute").Bool(p.smallest->recompute);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("rule_of_thumb").BeginObject();
  w.Key("gb").Number(p.rule_of_thumb_gb);
  w.Key("computed_bytes").Int(ConfiguredNeed(p));
  w.Key("note").String(RuleOfThumbNote(p));
  w.EndObject();
  w.Key("compute").BeginObject();
  w.Key("flops_per_token").Number(p.flops_per_token);
  w.Key("tokens_per_rank_step").Int(p.tokens_per_rank_step);
  if (p.step_seconds_fast.has_value()) {
    w.Key("step_s_at_50pct_mfu").Number(*p.step_seconds_fast);
    w.Key("step_s_at_30pct_mfu").Number(*p.step_seconds_slow);
  }
  w.EndObject();
  w.Key("communication").BeginObject();
  w.Key("sent_bytes_per_rank").Number(p.comm.sent_bytes_per_rank);
  if (p.comm.seconds.has_value()) w.Key("predicted_s").Number(*p.comm.seconds);
  if (!p.comm.fabric.empty()) w.Key("fabric").String(p.comm.fabric);
  if (!p.comm.note.empty()) w.Key("note").String(p.comm.note);
  w.Key("collectives").BeginArray();
  for (std::size_t i = 0; i < p.comm.calls.size(); ++i) {
    const sizing::CollectiveCall& k = p.comm.calls[i];
    w.BeginObject();
    w.Key("kind").String(sizing::CollectiveName(k.kind));
    w.Key("bytes").Int(k.bytes);
    w.Key("per_step").Int(k.count);
    w.Key("sent_bytes_per_rank").Number(sizing::SentBytesPerRank(k, p.world));
    if (i < p.comm.call_seconds.size()) {
      w.Key("predicted_s").Number(p.comm.call_seconds[i]);
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return w.str() + "\n";
}

}  // namespace dstrain::cli
