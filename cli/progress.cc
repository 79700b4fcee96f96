#include "cli/progress.h"

#include <cmath>

#include "common/strings.h"
#include "common/units.h"

namespace dstrain::cli {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  long s = std::lround(seconds);
  if (s >= 3600) {
    return StrFormat("%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  }
  return StrFormat("%ld:%02ld", s / 60, s % 60);
}

std::string FormatProgressLine(const ProgressSnapshot& p) {
  std::string line = "step " + std::to_string(p.step) + "/" +
                     std::to_string(p.total_steps) + "  loss " +
                     StrFormat("%.3f", p.loss) + "  " +
                     FormatRate(p.tokens_per_s) + " tok/s  elapsed " +
                     FormatDuration(p.elapsed_s) + "  ETA " +
                     (p.eta_s ? FormatDuration(*p.eta_s) : "--:--");
  return line;
}

std::optional<double> EstimateEta(int first_step, double first_s, int step,
                                  double now_s, int total_steps) {
  if (step <= first_step || now_s <= first_s) return std::nullopt;
  double per_step = (now_s - first_s) / (step - first_step);
  int left = total_steps - step;
  return left > 0 ? per_step * left : 0.0;
}

bool PlainProgressPacer::ShouldPrint(int step, int total, double now_s) {
  // The last step is left to the summary: its line would arrive (by the
  // coordinator's poll) after the workers' own closing lines.
  if (total > 0 && step >= total) return false;
  int bucket = total > 0 ? (step * 10) / total : step;
  bool print = false;
  if (last_bucket_ < 0 || bucket > last_bucket_) print = true;
  if (now_s - last_print_s_ >= max_quiet_s_) print = true;
  if (print) {
    last_bucket_ = bucket;
    last_print_s_ = now_s;
  }
  return print;
}

}  // namespace dstrain::cli
