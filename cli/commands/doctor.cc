#include "cli/commands/doctor.h"

#include <cstdio>

#include "agent/doctor/doctor.h"
#include "agent/node_probe.h"
#include "cli/engine/library_versions.h"

namespace dstrain::cli {

int RunDoctorCommand(const DoctorCommandOptions& o) {
  agent::ProbeOptions probe;
  probe.sys_root = o.sys_root;
  // nvidia-smi describes this machine's GPUs, not a fake tree's.
  probe.probe_gpus = o.sys_root == "/";
  const proto::NodeInventory node = agent::ProbeNode(probe);
  agent::DoctorOptions d;
  d.sys_root = o.sys_root;
  d.data_path = o.data_path;
  d.read_test = !o.no_read_test;
  d.versions = {{"libtorch", TorchVersion()}, {"NCCL", NcclVersion()}};
  d.inventory = node;
  const proto::DoctorReport report = agent::RunDoctor(d);
  const std::string out = o.json ? agent::DoctorJson(node.hostname(), report)
                                 : agent::DoctorText(node.hostname(), report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report.verdict() == "fail" ? 1 : 0;
}

}  // namespace dstrain::cli
