#pragma once
// The numbers and words of `dstrain launch`'s progress display, as pure
// functions (the Console draws them; the rate is common/units.h's
// FormatRate):
//   step 120/300  loss 2.913  48.2k tok/s  elapsed 0:42  ETA 1:03
// and when a non-TTY gets a progress line (every ~10% of the steps, or
// after `max_quiet_s` without one).

#include <optional>
#include <string>

namespace dstrain::cli {

// "0:42", "12:05", "1:02:03"; negative or non-finite reads "--:--".
std::string FormatDuration(double seconds);

struct ProgressSnapshot {
  int step = 0;
  int total_steps = 0;
  double loss = 0;
  double tokens_per_s = 0;
  double elapsed_s = 0;  // since launch
  // Estimated seconds left; nullopt until it can be estimated.
  std::optional<double> eta_s;
};

std::string FormatProgressLine(const ProgressSnapshot& p);

// ETA from the pace since the first observed step: the time from the first
// observed step (`first_step` at `first_s`) to `step` at `now_s`, scaled to
// the steps left. nullopt before two distinct steps were seen.
std::optional<double> EstimateEta(int first_step, double first_s, int step,
                                  double now_s, int total_steps);

// Decides when a non-TTY run prints a progress line: the first step, each
// time the step crosses another tenth of the total, and whenever
// `max_quiet_s` passed since the last printed line; never the last step,
// which the run's summary reports after the workers' last lines.
class PlainProgressPacer {
 public:
  explicit PlainProgressPacer(double max_quiet_s = 15.0)
      : max_quiet_s_(max_quiet_s) {}
  bool ShouldPrint(int step, int total_steps, double now_s);

 private:
  double max_quiet_s_;
  int last_bucket_ = -1;
  double last_print_s_ = 0;
};

}  // namespace dstrain::cli
