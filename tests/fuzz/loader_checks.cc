#include "tests/fuzz/loader_checks.h"

#include <algorithm>
#include <exception>
#include <set>

#include "common/config/job_config_loader.h"
#include "topology/io/cluster_yaml.h"
#include "topology/io/hostlist.h"
#include "topology/io/slurm_topology.h"
#include "worker/checkpoint/manifest.h"

namespace dstrain::fuzz {
namespace {

std::string CheckCluster(const StatusOr<topology::Cluster>& c) {
  if (!c.ok()) return CheckError(c.status());
  const Status v = c->Validate();
  if (!v.ok()) return "loaded a cluster that does not validate: " + v.message();
  return "";
}

// Runs `check`, turning an escaped exception into a finding.
template <typename F>
std::string Guarded(F check) {
  try {
    return check();
  } catch (const std::exception& e) {
    return std::string("threw ") + e.what();
  } catch (...) {
    return "threw a non-std exception";
  }
}

}  // namespace

std::string CheckError(const Status& status) {
  if (status.code() != StatusCode::kInvalidArgument) {
    return "error code " + std::string(StatusCodeName(status.code())) +
           ", not INVALID_ARGUMENT: " + status.message();
  }
  if (status.message().empty()) return "empty error message";
  // One line per error (the job loader reports up to 20 at once, then a
  // line saying it stopped): no blank line, nothing broken across lines.
  const std::string& m = status.message();
  std::size_t lines = 0;
  for (std::size_t start = 0; start <= m.size(); ++lines) {
    const std::size_t end = std::min(m.find('\n', start), m.size());
    if (end == start) return "an empty line in the error message: " + m;
    start = end + 1;
  }
  if (lines > 21) {
    return "error message has " + std::to_string(lines) + " lines: " + m;
  }
  return "";
}

std::string CheckJobYaml(std::string_view text,
                         const std::string& source_path) {
  return Guarded([&] {
    StatusOr<config::JobConfig> r =
        config::ParseJobYaml(std::string(text), source_path);
    return r.ok() ? "" : CheckError(r.status());
  });
}

std::string CheckJobOverrides(std::string_view job_text,
                              const std::string& source_path,
                              const std::vector<std::string>& overrides) {
  return Guarded([&] {
    StatusOr<config::JobConfig> r =
        config::ParseJobYaml(std::string(job_text), source_path, overrides);
    return r.ok() ? "" : CheckError(r.status());
  });
}

std::string CheckClusterYaml(std::string_view text) {
  return Guarded([&] {
    return CheckCluster(topology::ParseClusterYaml(text, "fuzz.yaml"));
  });
}

std::string CheckSlurmTopology(std::string_view text) {
  return Guarded([&] {
    return CheckCluster(topology::ParseSlurmTopology(text, "fuzz.conf"));
  });
}

std::string CheckHostList(std::string_view text) {
  return Guarded([&]() -> std::string {
    std::vector<std::string> out;
    topology::HostListError e;
    const Status s = topology::ExpandHostList(text, &out, &e);
    if (!s.ok()) {
      if (e.offset > text.size()) return "error offset past the expression";
      if (e.what.empty()) return "error without a description";
      return CheckError(s);
    }
    // The round trip costs far more than the expansion; past this many
    // names it would be the check, not the loader, that runs late.
    constexpr std::size_t kRoundTripNames = 20000;
    if (out.size() > kRoundTripNames) return "";
    const std::set<std::string> names(out.begin(), out.end());
    if (names.size() != out.size() || names.count("") > 0) return "";
    const std::string compressed = topology::CompressHostList(out);
    // For messages: the compression can be long.
    const std::string shown = compressed.size() > 200
                                  ? compressed.substr(0, 200) + "..."
                                  : compressed;
    StatusOr<std::vector<std::string>> back =
        topology::ExpandHostList(compressed);
    if (!back.ok()) {
      return "its compression `" + shown +
             "` does not expand: " + back.status().message().substr(0, 300);
    }
    if (std::set<std::string>(back->begin(), back->end()) != names) {
      return "its compression `" + shown + "` names other hosts";
    }
    return "";
  });
}

std::string CheckManifest(std::string_view text) {
  return Guarded([&]() -> std::string {
    StatusOr<checkpoint::Manifest> m =
        checkpoint::ParseManifest(text, "fuzz/manifest.txt");
    if (!m.ok()) return CheckError(m.status());
    StatusOr<checkpoint::Manifest> back = checkpoint::ParseManifest(
        checkpoint::SerializeManifest(*m), "fuzz/manifest.txt");
    if (!back.ok()) {
      return "a parsed manifest does not parse back: " +
             back.status().message();
    }
    if (!(*back == *m)) return "a parsed manifest parses back different";
    return "";
  });
}

}  // namespace dstrain::fuzz
