#include "cli/metrics_log.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "common/strings.h"

namespace dstrain::cli {

int StepOfMetricsLine(const std::string& line) {
  static constexpr char kKey[] = "\"step\":";
  const std::size_t at = line.find(kKey);
  if (at == std::string::npos) return -1;
  std::size_t begin = at + sizeof(kKey) - 1;
  while (begin < line.size() && line[begin] == ' ') ++begin;
  std::size_t end = begin;
  while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
  std::optional<int> step =
      ParseInteger<int>(std::string_view(line).substr(begin, end - begin));
  return step.value_or(-1);
}

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)) {}

MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

std::string MetricsLog::superseded_path() const {
  const std::string suffix = ".jsonl";
  if (path_.size() > suffix.size() &&
      path_.compare(path_.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return path_.substr(0, path_.size() - suffix.size()) + ".superseded.jsonl";
  }
  return path_ + ".superseded";
}

Status MetricsLog::Rewind(int step) {
  if (file_ == nullptr) {
    // The first step of this launch: what an earlier run left is history
    // until this step.
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) rows_.emplace_back(StepOfMetricsLine(line), line);
    }
  }
  std::vector<std::pair<int, std::string>> kept, replaced;
  for (auto& row : rows_) {
    (row.first < step ? kept : replaced).push_back(std::move(row));
  }
  if (!replaced.empty()) {
    std::FILE* old = std::fopen(superseded_path().c_str(), "ae");
    if (old == nullptr) {
      return Internal("cannot write " + superseded_path() + ": " +
                      std::strerror(errno));
    }
    for (const auto& row : replaced) {
      std::fprintf(old, "%s\n", row.second.c_str());
    }
    std::fclose(old);
  }
  const std::string tmp = path_ + ".tmp-" + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "we");
  if (f == nullptr) {
    return Internal("cannot write " + tmp + ": " + std::strerror(errno));
  }
  for (const auto& row : kept) std::fprintf(f, "%s\n", row.second.c_str());
  if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0 ||
      std::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    std::fclose(f);
    std::remove(tmp.c_str());
    return Internal("cannot replace " + path_ + ": " + std::strerror(err));
  }
  // The renamed file is the one this stream writes to from now on.
  if (file_ != nullptr) std::fclose(file_);
  file_ = f;
  rows_ = std::move(kept);
  return Status::Ok();
}

Status MetricsLog::Add(int step, const std::string& line) {
  if (file_ == nullptr || (!rows_.empty() && step <= rows_.back().first)) {
    DSTRAIN_RETURN_IF_ERROR(Rewind(step));
  }
  rows_.emplace_back(step, line);
  if (std::fprintf(file_, "%s\n", line.c_str()) < 0 ||
      std::fflush(file_) != 0) {
    return Internal("cannot write " + path_ + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace dstrain::cli
