#include "tests/util/process_table.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "common/strings.h"

namespace dstrain::testing {
namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool ParseProcStat(const std::string& text, ProcInfo* out) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return false;
  }
  const std::optional<pid_t> pid =
      ParseInteger<pid_t>(Trim(std::string_view(text).substr(0, open)));
  if (!pid) return false;
  out->pid = *pid;
  out->comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  long ppid = 0, pgid = 0;
  if (!(rest >> out->state >> ppid >> pgid)) return false;
  out->ppid = static_cast<pid_t>(ppid);
  out->pgid = static_cast<pid_t>(pgid);
  return true;
}

std::vector<ProcInfo> ListProcesses() {
  std::vector<ProcInfo> procs;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() ||
        name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    ProcInfo p;
    // The process may be gone between listing and reading: skip it.
    if (!ParseProcStat(ReadAll(e.path() / "stat"), &p)) continue;
    std::string cmd = ReadAll(e.path() / "cmdline");
    for (char& c : cmd) {
      if (c == '\0') c = ' ';
    }
    while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
    p.cmdline = cmd;
    procs.push_back(std::move(p));
  }
  return procs;
}

std::vector<ProcInfo> ProcessesInGroup(pid_t pgid) {
  std::vector<ProcInfo> out;
  for (auto& p : ListProcesses()) {
    if (p.pgid == pgid) out.push_back(p);
  }
  return out;
}

std::vector<ProcInfo> ChildrenOf(pid_t ppid) {
  std::vector<ProcInfo> out;
  for (auto& p : ListProcesses()) {
    if (p.ppid == ppid) out.push_back(p);
  }
  return out;
}

std::vector<ProcInfo> Descendants(pid_t pid) {
  auto all = ListProcesses();
  std::vector<ProcInfo> out;
  std::vector<pid_t> frontier = {pid};
  while (!frontier.empty()) {
    pid_t parent = frontier.back();
    frontier.pop_back();
    for (const auto& p : all) {
      if (p.ppid == parent) {
        out.push_back(p);
        frontier.push_back(p.pid);
      }
    }
  }
  return out;
}

std::string EnvironOf(pid_t pid, const std::string& key) {
  std::string env =
      ReadAll(std::filesystem::path("/proc") / std::to_string(pid) / "environ");
  const std::string prefix = key + "=";
  std::size_t start = 0;
  while (start < env.size()) {
    std::size_t end = env.find('\0', start);
    if (end == std::string::npos) end = env.size();
    if (env.compare(start, prefix.size(), prefix) == 0) {
      return env.substr(start + prefix.size(), end - start - prefix.size());
    }
    start = end + 1;
  }
  return "";
}

std::string Describe(const std::vector<ProcInfo>& procs) {
  std::string s;
  for (const auto& p : procs) {
    s += "pid " + std::to_string(p.pid) + " (" + p.comm + ") state " +
         std::string(1, p.state) + " ppid " + std::to_string(p.ppid) +
         " pgid " + std::to_string(p.pgid) + ": " + p.cmdline + "\n";
  }
  return s;
}

}  // namespace dstrain::testing
