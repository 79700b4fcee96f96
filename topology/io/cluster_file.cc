#include "topology/io/cluster_file.h"

#include <filesystem>

#include "common/read_file.h"
#include "common/yaml/suggest.h"
#include "topology/io/cluster_yaml.h"

namespace dstrain::topology {

ClusterFileFormat DetectClusterFileFormat(const std::string& path,
                                          std::string_view text) {
  const std::filesystem::path p(path);
  const std::string ext = yaml::NormalizeSpelling(p.extension().string());
  if (ext == ".yaml" || ext == ".yml") return ClusterFileFormat::kYaml;
  if (ext == ".conf") return ClusterFileFormat::kSlurmTopology;
  // Sniff: the first word that is not a comment.
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else {
      break;
    }
  }
  const std::string head = yaml::NormalizeSpelling(text.substr(i, 11));
  return head == "switchname=" ? ClusterFileFormat::kSlurmTopology
                               : ClusterFileFormat::kYaml;
}

StatusOr<Cluster> LoadClusterFile(const std::string& path,
                                  const SlurmTopologyOptions& slurm) {
  DSTRAIN_ASSIGN_OR_RETURN(
      const std::string s,
      ReadConfigFile(path, kMaxConfigFileRead, "cluster description"));
  if (DetectClusterFileFormat(path, s) == ClusterFileFormat::kSlurmTopology)
    return ParseSlurmTopology(s, path, slurm);
  return ParseClusterYaml(s, path);
}

}  // namespace dstrain::topology
