#include "worker/comm/collective_label.h"

#include <cstdio>

namespace dstrain::comm {

std::string Describe(const CollectiveLabel& label) {
  std::string s =
      label.backend + " " + label.op + " #" + std::to_string(label.seq);
  if (!label.dtype.empty()) {
    s += " (" + std::to_string(label.numel) + " x " + label.dtype + ")";
  }
  return s;
}

std::string FormatDuration(std::chrono::milliseconds d) {
  const std::int64_t ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string FormatRanks(const std::vector<int>& ranks) {
  std::string s = ranks.size() == 1 ? "rank " : "ranks ";
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(ranks[i]);
  }
  return s;
}

Status TimeoutError(const CollectiveLabel& label,
                    std::chrono::milliseconds timeout, int rank,
                    const std::optional<std::vector<int>>& missing,
                    const std::string& why_unknown) {
  std::string msg = Describe(label) + " timed out after " +
                    FormatDuration(timeout) + " on rank " +
                    std::to_string(rank) + "; ";
  if (!missing.has_value()) {
    msg += "could not tell which ranks never arrived";
    if (!why_unknown.empty()) msg += " (" + why_unknown + ")";
  } else if (missing->empty()) {
    msg += "every rank started it, so it stalled inside the backend";
  } else {
    msg += FormatRanks(*missing) + " never arrived";
  }
  return DeadlineExceeded(std::move(msg));
}

}  // namespace dstrain::comm
