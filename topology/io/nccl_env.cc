#include "topology/io/nccl_env.h"

#include "common/yaml/suggest.h"

namespace dstrain::topology {

std::string NcclAlgoName(std::string_view name) {
  static const std::map<std::string, std::string> kNames = {
      {"ring", "Ring"},
      {"tree", "Tree"},
      {"collnet_direct", "CollnetDirect"},
      {"collnetdirect", "CollnetDirect"},
      {"collnet_chain", "CollnetChain"},
      {"collnetchain", "CollnetChain"},
      {"nvls", "NVLS"},
      {"nvls_tree", "NVLSTree"},
      {"nvlstree", "NVLSTree"},
      {"pat", "PAT"},
  };
  auto it = kNames.find(yaml::NormalizeSpelling(name));
  return it == kNames.end() ? "" : it->second;
}

StatusOr<std::map<std::string, std::string>> NcclEnvironment(
    const Cluster& c, VertexId host, const NcclEnvOptions& o) {
  if (!c.IsHost(host)) {
    return InvalidArgument("NCCL environment: vertex " + std::to_string(host) +
                           " is not a host");
  }
  std::map<std::string, std::string> env;
  const HostInfo& h = c.vertex(host).host;
  if (!h.nics.empty()) {
    std::string hca = "=";
    for (size_t i = 0; i < h.nics.size(); ++i) {
      if (i) hca += ',';
      hca += h.nics[i].name + ":" + std::to_string(h.nics[i].port);
    }
    env["NCCL_IB_HCA"] = hca;
  }
  if (c.fabric().kind == FabricKind::kRailOptimized)
    env["NCCL_CROSS_NIC"] = "0";
  if (!o.topo_file.empty()) env["NCCL_TOPO_FILE"] = o.topo_file;
  const std::string algo = yaml::NormalizeSpelling(o.algorithm);
  if (!algo.empty() && algo != "auto") {
    std::string value;
    size_t start = 0;
    while (start <= o.algorithm.size()) {
      size_t comma = o.algorithm.find(',', start);
      if (comma == std::string::npos) comma = o.algorithm.size();
      const std::string one = o.algorithm.substr(start, comma - start);
      const std::string nccl = NcclAlgoName(one);
      if (nccl.empty()) {
        return InvalidArgument(
            "NCCL environment: unknown NCCL algorithm `" + one +
            "` (ring, tree, collnet_direct, collnet_chain, nvls, nvls_tree, "
            "pat)");
      }
      value += (value.empty() ? "" : ",") + nccl;
      start = comma + 1;
    }
    env["NCCL_ALGO"] = value;
  }
  return env;
}

}  // namespace dstrain::topology
