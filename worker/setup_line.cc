#include "worker/setup_line.h"

#include "common/strings.h"
#include "common/units.h"

namespace dstrain::worker {
namespace {

// Parameters as people say them: 412345 → "412.3K", 1.3e9 → "1.30B".
std::string ParamCount(std::int64_t n) {
  const double v = static_cast<double>(n);
  if (v >= 1e9) return StrFormat("%.2fB", v / 1e9);
  if (v >= 1e6) return StrFormat("%.1fM", v / 1e6);
  if (v >= 1e3) return StrFormat("%.1fK", v / 1e3);
  return std::to_string(n);
}

std::string Plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string Checkpoints(const config::CheckpointConfig& c,
                        const std::string& dir) {
  if (c.every_steps <= 0) return "checkpoints off";
  return "checkpoints every " + Plural(c.every_steps, "step", "steps") +
         (c.async ? " (async)" : "") + (c.save_final ? " and at the end" : "") +
         " in " + dir;
}

}  // namespace

std::string SetupLine(const config::JobConfig& job, int world_size,
                      const engine::TrainSetup& setup,
                      const std::string& checkpoint_dir) {
  std::string line = "dstrain worker: job " + job.name + ", " +
                     Plural(world_size, "rank", "ranks") + ", backend " +
                     setup.backend + "; ";
  line += StrFormat("%s %d layers d_model %d, %s params; ",
                    job.model.type.c_str(), job.model.layers, job.model.d_model,
                    ParamCount(setup.param_count).c_str());
  line += "ZeRO stage " + std::to_string(job.zero.stage) + ", AMP " +
          config::AmpDtypeName(job.amp.dtype) + ", recompute " +
          (job.recompute.enabled ? "on" : "off") + ", " +
          Checkpoints(job.checkpoint, checkpoint_dir) + "; ";
  if (setup.resumed_from_step > 0) {
    line +=
        "resumed from step " + std::to_string(setup.resumed_from_step) + "; ";
  }
  line += std::to_string(setup.tokens_per_step) + " tokens/step, data " +
          setup.dataset + StrFormat("; ready in %.1f s", setup.setup_s);
  return line;
}

}  // namespace dstrain::worker
