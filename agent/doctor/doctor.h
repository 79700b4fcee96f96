#pragma once
// `dstrain doctor`: one node checked against what training needs, each
// line with a verdict (ok, warn, fail) and its reason:
//   cpu         model, logical CPUs, AVX2 / AVX-512 / AMX (no AVX2 on x86:
//               warn, libtorch's CPU kernels take slow paths)
//   memory      total and available (warn under 10% available); NUMA nodes
//               with their CPUs and memory
//   gpu         each NVIDIA GPU on the PCI bus: name and memory (from the
//               inventory's nvidia-smi, by PCI address), PCIe link speed and
//               width against the slot's maximum (a narrower link: warn;
//               a slower one is only noted, GPUs lower it when idle), NUMA
//               node; the driver version (GPUs without a driver: fail)
//   nic         each physical network interface: state, speed, PCIe link
//               (narrower or slower than its maximum: warn), NUMA node
//   infiniband  each HCA port (/sys/class/infiniband): state (not ACTIVE:
//               fail), rate (below the node's fastest port of the same link
//               layer: warn), link layer (InfiniBand or RoCE), NUMA node,
//               PCIe link; and each GPU without an HCA on its NUMA node
//               (warn: its traffic crosses the CPU interconnect)
//   disk        free space of the data path (under 10 GiB or 5%: warn) and
//               a short sequential read that bypasses the page cache
//               (O_DIRECT; under 200 MB/s: warn)
//   software    the versions given (libtorch, NCCL)
// No GPU or HCA is not a failure: the lines say none was found.
//
// Everything is read under `sys_root` (its proc/ and sys/), so tests run
// over fake trees. Thread-compatible; the read test takes at most about
// read_test_max_s.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dstrain.pb.h"

namespace dstrain::agent {

struct DoctorOptions {
  std::string sys_root = "/";
  std::string data_path = ".";
  bool read_test = true;
  std::int64_t read_test_bytes = std::int64_t{256} << 20;
  double read_test_max_s = 1.5;
  // ("libtorch", "2.11.0"), ("NCCL", "2.27.3"): shown as found.
  std::vector<std::pair<std::string, std::string>> versions;
  // GPU names and memory by PCI address (nvidia-smi's, agent/node_probe.h).
  proto::NodeInventory inventory;
};

proto::DoctorReport RunDoctor(const DoctorOptions& options);

// "ok" < "warn" < "fail".
int VerdictRank(const std::string& verdict);

// The report as an aligned table and a summary line; as one JSON object.
std::string DoctorText(const std::string& hostname,
                       const proto::DoctorReport& report);
std::string DoctorJson(const std::string& hostname,
                       const proto::DoctorReport& report);

}  // namespace dstrain::agent
