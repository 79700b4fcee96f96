#include "worker/comm/collective_fingerprint.h"

#include "worker/comm/collective_label.h"

namespace dstrain::comm {

const char* CollectiveKindName(CollectiveKind kind) {
  switch (kind) {
    case CollectiveKind::kAllReduce:
      return "all-reduce";
    case CollectiveKind::kAllGather:
      return "all-gather";
    case CollectiveKind::kReduceScatter:
      return "reduce-scatter";
    case CollectiveKind::kBroadcast:
      return "broadcast";
    case CollectiveKind::kBarrier:
      return "barrier";
    case CollectiveKind::kSplit:
      return "split";
  }
  return "unknown collective";
}

std::string Fingerprint::Describe() const {
  std::string s = CollectiveKindName(kind);
  if (!dtype.empty()) {
    s += " of " + std::to_string(numel) + " x " + dtype;
  }
  if (!arg.empty()) s += " (" + arg + ")";
  return s;
}

std::vector<std::int64_t> ToWords(const Fingerprint& f) {
  return {static_cast<std::int64_t>(f.kind), f.dtype_code, f.numel, f.arg_code};
}

Status CompareFingerprints(const std::string& what,
                           const std::vector<Fingerprint>& all) {
  bool same = true;
  for (const Fingerprint& f : all) same = same && f == all.front();
  if (same) return Status::Ok();
  // Distinct fingerprints in order of their first rank.
  std::vector<std::vector<int>> groups;
  std::vector<int> representative;
  for (int r = 0; r < static_cast<int>(all.size()); ++r) {
    std::size_t g = 0;
    while (g < representative.size() && !(all[representative[g]] == all[r])) {
      ++g;
    }
    if (g == representative.size()) {
      representative.push_back(r);
      groups.emplace_back();
    }
    groups[g].push_back(r);
  }
  std::string msg = what + ": ranks disagree on the collective: ";
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (g > 0) msg += "; ";
    msg += FormatRanks(groups[g]) + ": " + all[representative[g]].Describe();
  }
  return InvalidArgument(std::move(msg));
}

}  // namespace dstrain::comm
