#include "worker/metrics/metrics_json.h"

#include <cmath>
#include <cstdio>

namespace dstrain::metrics {

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string StepJsonLine(const engine::RankContext& ctx,
                         const engine::StepReport& s) {
  std::string o = "{\"type\":\"step\",\"job_id\":" + JsonString(ctx.job_id);
  o += ",\"rank\":" + std::to_string(ctx.rank);
  o += ",\"attempt\":" + std::to_string(ctx.attempt);
  o += ",\"step\":" + std::to_string(s.step);
  o += ",\"total_steps\":" + std::to_string(s.total_steps);
  o += ",\"loss\":" + JsonNumber(s.loss);
  o += ",\"lr\":" + JsonNumber(s.lr);
  o += ",\"grad_norm\":" + JsonNumber(s.grad_norm);
  o += ",\"tokens_per_s\":" + JsonNumber(s.tokens_per_s);
  o += ",\"step_time_s\":" + JsonNumber(s.step_time_s);
  o += ",\"comm_time_s\":" + JsonNumber(s.comm_time_s);
  o += ",\"loss_scale\":" + JsonNumber(s.loss_scale);
  o += ",\"elapsed_s\":" + JsonNumber(s.elapsed_s);
  o += ",\"peak_rss_bytes\":" + std::to_string(s.peak_rss_bytes);
  o += "}\n";
  return o;
}

std::string ResultJsonLine(const engine::RankContext& ctx,
                           const engine::TrainResult& r) {
  std::string o = "{\"type\":\"result\",\"rank\":" + std::to_string(ctx.rank);
  o += ",\"steps\":" + std::to_string(r.steps);
  o += ",\"final_loss\":" + JsonNumber(r.final_loss);
  o += ",\"param_digest\":" + JsonString(r.param_digest);
  o += ",\"param_count\":" + std::to_string(r.param_count);
  o += "}\n";
  return o;
}

}  // namespace dstrain::metrics
