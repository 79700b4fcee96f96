#include "common/contract/checkpoint_dir.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>

#include "common/strings.h"

namespace dstrain::contract {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "step-";

// "step-<digits>" followed by `suffix_start` (the rest); false if not.
bool ParseStep(std::string_view name, std::int64_t* step,
               std::string_view* rest) {
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  name.remove_prefix(kPrefix.size());
  const std::size_t digits =
      std::min(name.find_first_not_of("0123456789"), name.size());
  const std::optional<std::int64_t> n =
      ParseInteger<std::int64_t>(name.substr(0, digits));
  if (!n) return false;
  *step = *n;
  *rest = name.substr(digits);
  return true;
}

}  // namespace

std::string StepDirName(std::int64_t step) {
  return std::string(kPrefix) + std::to_string(step);
}

std::string TempDirName(std::int64_t step, int attempt) {
  return StepDirName(step) + ".tmp-" + std::to_string(attempt);
}

std::string RetiredDirName(std::int64_t step, int attempt) {
  return StepDirName(step) + ".old-" + std::to_string(attempt);
}

std::vector<std::int64_t> ListCheckpoints(const std::string& dir) {
  std::vector<std::int64_t> steps;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::int64_t step = 0;
    std::string_view rest;
    const std::string name = it->path().filename().string();
    if (!ParseStep(name, &step, &rest) || !rest.empty()) continue;
    std::error_code ec2;
    if (!it->is_directory(ec2)) continue;
    if (!fs::is_regular_file(it->path() / kManifestFile, ec2)) continue;
    steps.push_back(step);
  }
  std::sort(steps.rbegin(), steps.rend());
  return steps;
}

std::vector<std::string> ListLeftovers(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::int64_t step = 0;
    std::string_view rest;
    const std::string name = it->path().filename().string();
    if (!ParseStep(name, &step, &rest)) continue;
    if (rest.substr(0, 5) == ".tmp-" || rest.substr(0, 5) == ".old-") {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::int64_t> StepsToPrune(
    const std::vector<std::int64_t>& newest_first, int keep) {
  if (keep < 1 || newest_first.size() <= static_cast<std::size_t>(keep)) {
    return {};
  }
  return {newest_first.begin() + keep, newest_first.end()};
}

std::string ResolveCheckpointDir(const config::JobConfig& job,
                                 const std::string& run_dir) {
  if (!job.checkpoint.dir.empty()) {
    fs::path p(job.checkpoint.dir);
    if (p.is_relative() && !job.source_path.empty() &&
        job.source_path.front() != '<') {
      p = fs::path(job.source_path).parent_path() / p;
    }
    return p.lexically_normal().string();
  }
  if (!run_dir.empty()) return (fs::path(run_dir) / "ckpt").string();
  return (fs::path("runs") / job.name / "ckpt").string();
}

}  // namespace dstrain::contract
