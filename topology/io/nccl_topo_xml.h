#pragma once
// An NCCL topology file (NCCL_TOPO_FILE) for one host, from its inventory.
//
// The schema is the one NCCL's src/graph/topo.cc reads (NCCL_TOPO_XML
// version 1):
//   <system version="1">
//     <cpu numaid="0" affinity="0000ffff" arch="x86_64" vendor="GenuineIntel"
//          familyid="6" modelid="143">
//       <pci busid="0000:1b:00.0" class="0x030200" link_speed="32.0 GT/s PCIe"
//            link_width="16">
//         <gpu dev="0" sm="90" rank="0" gdr="1"/>
//       </pci>
//       <pci busid="0000:1c:00.0" class="0x020700" link_speed="32.0 GT/s PCIe"
//            link_width="16">
//         <nic>
//           <net name="mlx5_0" dev="0" speed="400000" port="1"
//                guid="0x1c34da0300a1b2c3" maxconn="131072" gdr="1"/>
//         </nic>
//       </pci>
//       <nic> <net .../> </nic>     (NICs without a PCI bus id)
//     </cpu>
//   </system>
// One <cpu> per NUMA node (devices and NICs with an unknown node go to the
// lowest known node, or 0), in ascending id; GPUs in device-index order,
// then NICs in NIC order. `affinity` is the node's CPU mask in the Linux
// cpumap form (comma-separated 32-bit hex words, most significant first)
// and is left out when the node's CPUs are unknown; vendor/familyid/
// modelid are written for x86_64 only (NCCL reads them only there).
// `rank` is the local device index: NCCL replaces it with the global rank
// when it matches the GPU by bus id. Net `speed` is in Mb/s, `dev` the NIC
// index. Attribute values are XML-escaped. Every device needs a PCI bus id
// (NCCL matches GPUs by it): "0000:1b:00.0" or the short "1b:00.0";
// written lower-case with the domain.
//
// Errors (INVALID_ARGUMENT): a device without or with a malformed bus id,
// two devices/NICs on one bus id, no devices. Pure; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "topology/model/cluster.h"

namespace dstrain::topology {

struct NcclXmlOptions {
  std::string cpu_arch = "x86_64";  // x86_64 | arm64 | ppc64
  std::string cpu_vendor = "GenuineIntel";
  int cpu_family = 6;
  int cpu_model = 143;  // 0x8f, Sapphire Rapids: NCCL's "SKL or later"
  std::string pci_link_speed = "32.0 GT/s PCIe";  // PCIe Gen5
  int pci_link_width = 16;
  int default_sm = 90;  // for devices whose DeviceInfo::sm is 0
  bool gdr = true;      // GPUDirect RDMA available
  int net_maxconn = 131072;
};

StatusOr<std::string> NcclTopologyXml(const HostInfo& host,
                                      const NcclXmlOptions& options = {});

// `text` with &, <, >, " and ' replaced by entities.
std::string XmlEscape(std::string_view text);

// The Linux cpumap form of a CPU set: "ffffffff,00000000" for CPUs 32-63.
std::string CpuMask(const std::vector<int>& cpus);

}  // namespace dstrain::topology
