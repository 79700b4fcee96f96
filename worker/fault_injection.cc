#include "worker/fault_injection.h"

#include <cmath>
#include <map>

namespace dstrain::worker {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (true) {
    const std::size_t end = s.find(sep, at);
    out.push_back(s.substr(at, end == std::string::npos ? end : end - at));
    if (end == std::string::npos) return out;
    at = end + 1;
  }
}

Status Bad(const std::string& entry, const std::string& why) {
  return InvalidArgument(std::string(kFaultInjectEnv) + ": `" + entry +
                         "`: " + why +
                         " (expected exit:rank=R,step=S[,code=C][,attempt=A] "
                         "or delay:rank=R,seconds=X[,attempt=A])");
}

bool ToInt(const std::string& s, int lo, int hi, int* out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  const int v = std::stoi(s);
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

std::optional<int> InjectedFaults::ExitAfter(int rank, int step,
                                             int attempt) const {
  for (const Exit& e : exits) {
    if (e.rank == rank && e.step == step &&
        (e.attempt < 0 || e.attempt == attempt)) {
      return e.code;
    }
  }
  return std::nullopt;
}

double InjectedFaults::DelayFor(int rank, int attempt) const {
  double total = 0;
  for (const Delay& d : delays) {
    if (d.rank == rank && (d.attempt < 0 || d.attempt == attempt)) {
      total += d.seconds;
    }
  }
  return total;
}

StatusOr<InjectedFaults> ParseInjectedFaults(const std::string& text) {
  InjectedFaults out;
  if (text.empty()) return out;
  if (text.size() > 4096) return Bad(text.substr(0, 40) + "...", "too long");
  for (const std::string& entry : Split(text, ';')) {
    if (entry.empty()) continue;
    const std::size_t colon = entry.find(':');
    if (colon == std::string::npos) return Bad(entry, "no `KIND:`");
    const std::string kind = entry.substr(0, colon);
    std::map<std::string, std::string> kv;
    for (const std::string& item : Split(entry.substr(colon + 1), ',')) {
      const std::size_t eq = item.find('=');
      if (eq == std::string::npos)
        return Bad(entry, "`" + item + "` is not key=value");
      if (!kv.emplace(item.substr(0, eq), item.substr(eq + 1)).second) {
        return Bad(entry, "`" + item.substr(0, eq) + "` given twice");
      }
    }
    const auto take_int = [&](const std::string& key, int lo, int hi, int* v,
                              bool required) -> Status {
      auto it = kv.find(key);
      if (it == kv.end()) {
        return required ? Bad(entry, "needs " + key) : Status::Ok();
      }
      if (!ToInt(it->second, lo, hi, v)) {
        return Bad(entry, key + " `" + it->second +
                              "` is not a whole number from " +
                              std::to_string(lo) + " to " + std::to_string(hi));
      }
      kv.erase(it);
      return Status::Ok();
    };
    if (kind == "exit") {
      InjectedFaults::Exit e;
      DSTRAIN_RETURN_IF_ERROR(take_int("rank", 0, 1 << 24, &e.rank, true));
      DSTRAIN_RETURN_IF_ERROR(take_int("step", 1, 1 << 30, &e.step, true));
      DSTRAIN_RETURN_IF_ERROR(take_int("code", 1, 255, &e.code, false));
      DSTRAIN_RETURN_IF_ERROR(
          take_int("attempt", 0, 1 << 20, &e.attempt, false));
      if (!kv.empty())
        return Bad(entry, "unknown key `" + kv.begin()->first + "`");
      out.exits.push_back(e);
    } else if (kind == "delay") {
      InjectedFaults::Delay d;
      DSTRAIN_RETURN_IF_ERROR(take_int("rank", 0, 1 << 24, &d.rank, true));
      DSTRAIN_RETURN_IF_ERROR(
          take_int("attempt", 0, 1 << 20, &d.attempt, false));
      auto it = kv.find("seconds");
      if (it == kv.end()) return Bad(entry, "needs seconds");
      char* end = nullptr;
      d.seconds = std::strtod(it->second.c_str(), &end);
      if (it->second.empty() || end == nullptr || *end != '\0' ||
          !std::isfinite(d.seconds) || d.seconds < 0 || d.seconds > 3600) {
        return Bad(entry, "seconds `" + it->second +
                              "` is not a number from 0 to 3600");
      }
      kv.erase(it);
      if (!kv.empty())
        return Bad(entry, "unknown key `" + kv.begin()->first + "`");
      out.delays.push_back(d);
    } else {
      return Bad(entry, "unknown kind `" + kind + "`");
    }
  }
  return out;
}

}  // namespace dstrain::worker
