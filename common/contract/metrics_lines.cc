#include "common/contract/metrics_lines.h"

#include "common/json_writer.h"

namespace dstrain::contract {

std::string StepLine(const LineLabels& labels, const StepMetrics& s) {
  JsonWriter w;
  w.BeginObject();
  w.Key("type").String("step");
  w.Key("job_id").String(labels.job_id);
  w.Key("rank").Int(labels.rank);
  w.Key("attempt").Int(labels.attempt);
  w.Key("step").Int(s.step);
  w.Key("total_steps").Int(s.total_steps);
  w.Key("loss").Number(s.loss);
  w.Key("lr").Number(s.lr);
  w.Key("grad_norm").Number(s.grad_norm);
  w.Key("tokens_per_s").Number(s.tokens_per_s);
  w.Key("step_time_s").Number(s.step_time_s);
  w.Key("comm_time_s").Number(s.comm_time_s);
  w.Key("data_wait_s").Number(s.data_wait_s);
  w.Key("loss_scale").Number(s.loss_scale);
  w.Key("skipped").Bool(s.skipped);
  w.Key("skipped_steps").Int(s.skipped_steps);
  w.Key("elapsed_s").Number(s.elapsed_s);
  w.Key("peak_rss_bytes").Int(s.peak_rss_bytes);
  w.Key("param_bytes").Int(s.param_bytes);
  w.Key("grad_bytes").Int(s.grad_bytes);
  w.Key("optimizer_bytes").Int(s.optimizer_bytes);
  w.Key("model_state_peak_bytes").Int(s.model_state_peak_bytes);
  w.Key("activation_peak_bytes").Int(s.activation_peak_bytes);
  w.Key("checkpoint_s").Number(s.checkpoint_s);
  w.Key("device_peak_bytes").Int(s.device_peak_bytes);
  w.EndObject();
  return w.str() + "\n";
}

std::string ResultLine(const LineLabels& labels, const RankResult& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("type").String("result");
  w.Key("rank").Int(labels.rank);
  w.Key("steps").Int(r.steps);
  w.Key("final_loss").Number(r.final_loss);
  w.Key("param_digest").String(r.param_digest);
  w.Key("param_count").Int(r.param_count);
  w.EndObject();
  return w.str() + "\n";
}

}  // namespace dstrain::contract
