#include "worker/metrics/metrics_json.h"

#include "common/json_writer.h"

namespace dstrain::metrics {

std::string StepJsonLine(const engine::RankContext& ctx,
                         const engine::StepReport& s) {
  JsonWriter w;
  w.BeginObject()
      .Key("type")
      .String("step")
      .Key("job_id")
      .String(ctx.job_id)
      .Key("rank")
      .Int(ctx.rank)
      .Key("attempt")
      .Int(ctx.attempt)
      .Key("step")
      .Int(s.step)
      .Key("total_steps")
      .Int(s.total_steps)
      .Key("loss")
      .Number(s.loss)
      .Key("lr")
      .Number(s.lr)
      .Key("grad_norm")
      .Number(s.grad_norm)
      .Key("tokens_per_s")
      .Number(s.tokens_per_s)
      .Key("step_time_s")
      .Number(s.step_time_s)
      .Key("comm_time_s")
      .Number(s.comm_time_s)
      .Key("loss_scale")
      .Number(s.loss_scale)
      .Key("skipped")
      .Bool(s.skipped)
      .Key("skipped_steps")
      .Int(s.skipped_steps)
      .Key("elapsed_s")
      .Number(s.elapsed_s)
      .Key("peak_rss_bytes")
      .Int(s.peak_rss_bytes)
      .Key("param_bytes")
      .Int(s.param_bytes)
      .Key("grad_bytes")
      .Int(s.grad_bytes)
      .Key("optimizer_bytes")
      .Int(s.optimizer_bytes)
      .Key("model_state_peak_bytes")
      .Int(s.model_state_peak_bytes)
      .Key("activation_peak_bytes")
      .Int(s.activation_peak_bytes)
      .EndObject();
  return w.str() + "\n";
}

std::string ResultJsonLine(const engine::RankContext& ctx,
                           const engine::TrainResult& r) {
  JsonWriter w;
  w.BeginObject()
      .Key("type")
      .String("result")
      .Key("rank")
      .Int(ctx.rank)
      .Key("steps")
      .Int(r.steps)
      .Key("final_loss")
      .Number(r.final_loss)
      .Key("param_digest")
      .String(r.param_digest)
      .Key("param_count")
      .Int(r.param_count)
      .EndObject();
  return w.str() + "\n";
}

}  // namespace dstrain::metrics
