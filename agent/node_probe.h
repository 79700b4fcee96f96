#pragma once
// Describes this node for registration: hostname, addresses, CPUs, memory,
// NUMA nodes (from /sys/devices/system/node) and GPUs (from nvidia-smi, only
// where the NVIDIA driver is present; empty otherwise).
//
// The parsers are pure functions over the text of the files so they can be
// tested on samples; ProbeNode reads under `sys_root` ("/" on a real node, a
// temporary tree in tests). ProbeNode never fails: what it cannot read it
// leaves empty. Thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::agent {

// "0-3,8,10-11\n" -> {0,1,2,3,8,10,11}. Empty text is an empty list.
StatusOr<std::vector<int>> ParseCpuList(std::string_view text);

// The MemTotal line of /sys/devices/system/node/nodeN/meminfo
// ("Node 0 MemTotal:  11495636 kB") or of /proc/meminfo
// ("MemTotal:  11495636 kB"), in bytes.
StatusOr<std::int64_t> ParseMemTotal(std::string_view meminfo);

// `nvidia-smi --query-gpu=index,name,pci.bus_id,memory.total
//  --format=csv,noheader,nounits` output: one GPU per line, memory in MiB.
// numa_node is left at -1 (the caller looks it up in sysfs).
StatusOr<std::vector<proto::Gpu>> ParseNvidiaSmiCsv(std::string_view text);

// NUMA nodes under <sys_root>/sys/devices/system/node/node<N>/; nodes whose
// files cannot be read or parsed are skipped.
std::vector<proto::NumaNode> ProbeNumaNodes(const std::string& sys_root);

struct ProbeOptions {
  std::string sys_root = "/";
  std::string hostname;  // "" = gethostname()
  bool probe_gpus = true;
};

proto::NodeInventory ProbeNode(const ProbeOptions& options = {});

}  // namespace dstrain::agent
