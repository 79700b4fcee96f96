#include "cli/run_summary.h"

#include <algorithm>

#include "cli/progress.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/units.h"

namespace dstrain::cli {

const char* JobStateName(proto::JobState state) {
  switch (state) {
    case proto::JOB_PENDING:
      return "PENDING";
    case proto::JOB_STARTING:
      return "STARTING";
    case proto::JOB_RUNNING:
      return "RUNNING";
    case proto::JOB_SUCCEEDED:
      return "SUCCEEDED";
    case proto::JOB_FAILED:
      return "FAILED";
    case proto::JOB_CANCELLED:
      return "CANCELLED";
    default:
      return "UNSPECIFIED";
  }
}

bool RunSummary::ParamDigestsAgree() const {
  if (results.empty() || static_cast<int>(results.size()) != world_size) {
    return false;
  }
  for (const auto& r : results) {
    if (r.param_digest().empty() ||
        r.param_digest() != results[0].param_digest()) {
      return false;
    }
  }
  return true;
}

RunSummary BuildSummary(const std::string& job_name, const proto::JobStatus& st,
                        const std::vector<proto::StepMetrics>& history,
                        double wall_time_s) {
  RunSummary s;
  s.job_name = job_name;
  s.job_id = st.job_id();
  s.slurm_job_id = st.slurm_job_id();
  s.state = JobStateName(st.state());
  s.reason = st.reason();
  s.world_size = st.world_size();
  s.wall_time_s = wall_time_s;
  for (const auto& m : history) {
    s.losses.push_back(m.loss());
    s.steps = m.step();
    s.total_steps = m.total_steps();
  }
  if (!s.losses.empty()) {
    s.first_loss = s.losses.front();
    s.final_loss = s.losses.back();
    std::size_t n = std::min<std::size_t>(10, s.losses.size());
    double sum = 0;
    for (std::size_t i = s.losses.size() - n; i < s.losses.size(); ++i) {
      sum += s.losses[i];
    }
    s.mean_last10_loss = sum / n;
    std::size_t from = history.size() > 1 ? 1 : 0;
    double tps = 0;
    for (std::size_t i = from; i < history.size(); ++i) {
      tps += history[i].tokens_per_s();
    }
    s.mean_tokens_per_s = tps / (history.size() - from);
  }
  s.results.assign(st.results().begin(), st.results().end());
  std::sort(s.results.begin(), s.results.end(),
            [](const auto& a, const auto& b) { return a.rank() < b.rank(); });
  s.exits.assign(st.exits().begin(), st.exits().end());
  std::sort(s.exits.begin(), s.exits.end(),
            [](const auto& a, const auto& b) { return a.rank() < b.rank(); });
  return s;
}

namespace {

void OptionalNumber(JsonWriter& w, const char* key,
                    const std::optional<double>& v) {
  w.Key(key);
  if (v) {
    w.Number(*v);
  } else {
    w.Null();
  }
}

}  // namespace

std::string SummaryJson(const RunSummary& s) {
  JsonWriter w;
  w.BeginObject();
  w.Key("job").String(s.job_name);
  w.Key("job_id").String(s.job_id);
  w.Key("slurm_job_id").String(s.slurm_job_id);
  w.Key("state").String(s.state);
  w.Key("reason").String(s.reason);
  w.Key("steps").Int(s.steps);
  w.Key("total_steps").Int(s.total_steps);
  w.Key("world_size").Int(s.world_size);
  OptionalNumber(w, "first_loss", s.first_loss);
  OptionalNumber(w, "final_loss", s.final_loss);
  OptionalNumber(w, "mean_last10_loss", s.mean_last10_loss);
  OptionalNumber(w, "mean_tokens_per_s", s.mean_tokens_per_s);
  w.Key("wall_time_s").Number(s.wall_time_s);
  w.Key("param_digests_agree").Bool(s.ParamDigestsAgree());
  w.Key("losses").BeginArray();
  for (double l : s.losses) w.Number(l);
  w.EndArray();
  w.Key("ranks").BeginArray();
  for (const auto& r : s.results) {
    w.BeginObject();
    w.Key("rank").Int(r.rank());
    w.Key("steps").Int(r.steps());
    w.Key("final_loss").Number(r.final_loss());
    w.Key("param_digest").String(r.param_digest());
    w.Key("param_count").Int(r.param_count());
    w.EndObject();
  }
  w.EndArray();
  w.Key("exits").BeginArray();
  for (const auto& e : s.exits) {
    w.BeginObject();
    w.Key("rank").Int(e.rank());
    w.Key("exit_code").Int(e.exit_code());
    w.Key("signal").Int(e.signal());
    w.Key("reason").String(e.reason());
    w.EndObject();
  }
  w.EndArray();
  w.Key("run_dir").String(s.run_dir);
  w.Key("metrics").String(s.metrics_path);
  w.Key("summary").String(s.summary_path);
  w.EndObject();
  return w.str();
}

std::string SummaryText(const RunSummary& s) {
  std::string t = "job " + s.job_name + " " + s.state + ": " +
                  std::to_string(s.steps) + "/" +
                  std::to_string(s.total_steps) + " steps on " +
                  std::to_string(s.world_size) + " ranks in " +
                  FormatDuration(s.wall_time_s) + "\n";
  if (!s.reason.empty()) t += "  reason:      " + s.reason + "\n";
  if (s.first_loss) {
    t += "  loss:        first " + StrFormat("%.4f", *s.first_loss) +
         ", final " + StrFormat("%.4f", *s.final_loss) + ", mean of last " +
         std::to_string(std::min<std::size_t>(10, s.losses.size())) + " " +
         StrFormat("%.4f", *s.mean_last10_loss) + "\n";
  }
  if (s.mean_tokens_per_s) {
    t += "  throughput:  " + FormatRate(*s.mean_tokens_per_s) +
         " tokens/s (mean)\n";
  }
  if (!s.results.empty()) {
    t += "  parameters:  " + std::to_string(s.results[0].param_count()) +
         ", digest " + s.results[0].param_digest() +
         (s.ParamDigestsAgree() ? " (identical on all ranks)"
                                : " (ranks DIFFER or missing)") +
         "\n";
  }
  if (!s.metrics_path.empty()) t += "  metrics:     " + s.metrics_path + "\n";
  if (!s.summary_path.empty()) t += "  summary:     " + s.summary_path + "\n";
  return t;
}

std::string StepMetricsJson(const proto::StepMetrics& m) {
  JsonWriter w;
  w.BeginObject();
  w.Key("step").Int(m.step());
  w.Key("total_steps").Int(m.total_steps());
  w.Key("loss").Number(m.loss());
  w.Key("lr").Number(m.lr());
  w.Key("tokens_per_s").Number(m.tokens_per_s());
  w.Key("step_time_s").Number(m.step_time_s());
  w.Key("grad_norm").Number(m.grad_norm());
  w.Key("comm_time_s").Number(m.comm_time_s());
  w.Key("data_wait_s").Number(m.data_wait_s());
  w.Key("loss_scale").Number(m.loss_scale());
  w.Key("skipped").Bool(m.skipped());
  w.Key("skipped_steps").Int(m.skipped_steps());
  w.Key("elapsed_s").Number(m.elapsed_s());
  w.Key("peak_rss_bytes").Int(m.peak_rss_bytes());
  w.Key("param_bytes").Int(m.param_bytes());
  w.Key("grad_bytes").Int(m.grad_bytes());
  w.Key("optimizer_bytes").Int(m.optimizer_bytes());
  w.Key("model_state_peak_bytes").Int(m.model_state_peak_bytes());
  w.Key("activation_peak_bytes").Int(m.activation_peak_bytes());
  w.Key("checkpoint_s").Number(m.checkpoint_s());
  w.Key("device_peak_bytes").Int(m.device_peak_bytes());
  w.Key("rank").Int(m.rank());
  w.Key("attempt").Int(m.attempt());
  w.Key("job_id").String(m.job_id());
  w.EndObject();
  return w.str();
}

}  // namespace dstrain::cli
