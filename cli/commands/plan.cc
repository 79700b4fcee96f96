#include "cli/commands/plan.h"

#include <cstdio>
#include <filesystem>

#include "agent/node_probe.h"
#include "cli/plan/job_plan.h"
#include "cli/plan/plan_report.h"
#include "cli/preflight.h"
#include "common/config/job_config_loader.h"
#include "common/sizing/devices.h"
#include "common/sizing/gpt_size.h"

namespace dstrain::cli {
namespace {

constexpr int kExitUsage = 2;

int Usage(const std::string& message) {
  std::fprintf(stderr, "dstrain plan: %s\n", message.c_str());
  return kExitUsage;
}

void PrintDeviceTable() {
  std::printf("%-10s  %8s  %13s  %s\n", "gpu", "memory", "dense 16-bit",
              "rule of thumb: largest model");
  for (const sizing::DeviceSpec& d : sizing::KnownDevices()) {
    std::printf("%-10s  %5.0f GB  %7.1f TFLOPS  %.2fB parameters\n", d.name,
                d.memory_gib, d.dense_tflops,
                sizing::RuleOfThumbMaxParams(d.memory_gib) / 1e9);
  }
}

}  // namespace

int RunPlanCommand(const PlanCommandOptions& o) {
  if (o.gpu == "list") {
    PrintDeviceTable();
    return 0;
  }
  if (o.job_path.empty())
    return Usage("give the job file: dstrain plan JOB.yaml");
  StatusOr<config::JobConfig> job =
      config::LoadJobFile(o.job_path, o.overrides);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.status().message().c_str());
    return kExitUsage;
  }
  if (o.nodes < 0) return Usage("--nodes must be >= 1");
  if (o.procs_per_node < 0) return Usage("--procs-per-node must be >= 1");
  if (o.device_memory_gib < 0) return Usage("--device-memory must be > 0");
  PlanShape shape;
  shape.nodes = o.nodes > 0 ? o.nodes : job->nodes.min;
  shape.procs_per_node =
      o.procs_per_node > 0 ? o.procs_per_node : job->procs_per_node;
  shape.cluster = o.cluster;
  if (shape.cluster.empty() && !job->topology.cluster.empty()) {
    // Relative to the job file, as the launcher resolves it.
    const std::filesystem::path c(job->topology.cluster);
    shape.cluster =
        c.is_absolute()
            ? c.string()
            : (std::filesystem::path(job->source_path).parent_path() / c)
                  .string();
  }

  DeviceChoice choice;
  if (o.gpu.empty() && o.device_memory_gib <= 0) {
    agent::ProbeOptions probe;
    probe.probe_gpus = job->device == config::Device::kCuda;
    choice = DeviceChoiceOf(agent::ProbeNode(probe));
  }
  choice.gpu = o.gpu;
  choice.device_memory_gib = o.device_memory_gib;
  StatusOr<RankDevice> device =
      ResolveRankDevice(*job, shape.procs_per_node, choice);
  if (!device.ok()) return Usage(device.status().message());
  StatusOr<JobPlan> plan = MakeJobPlan(*job, shape, *device);
  if (!plan.ok()) return Usage(plan.status().message());
  const std::string out = o.json ? PlanJson(*plan) : PlanText(*plan);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return plan->fits ? 0 : kExitDoesNotFit;
}

}  // namespace dstrain::cli
