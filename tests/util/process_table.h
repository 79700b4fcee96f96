#pragma once
// A snapshot of the processes on this machine, from /proc, for tests that
// assert nothing was left behind: no process in a job's process group, no
// child (or zombie) of a launcher. Thread-safe; reads /proc each call.

#include <sys/types.h>

#include <string>
#include <vector>

namespace dstrain::testing {

struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  char state = '?';  // R S D Z T ... as in /proc/<pid>/stat
  std::string comm;
  std::string cmdline;  // argv joined with spaces; empty for zombies
};

// Parses the text of /proc/<pid>/stat (comm may hold spaces and ')').
bool ParseProcStat(const std::string& text, ProcInfo* out);

std::vector<ProcInfo> ListProcesses();
std::vector<ProcInfo> ProcessesInGroup(pid_t pgid);
std::vector<ProcInfo> ChildrenOf(pid_t ppid);
// `pid` and everything below it.
std::vector<ProcInfo> Descendants(pid_t pid);

// The value of `key` in the process's environment, "" when absent or
// unreadable.
std::string EnvironOf(pid_t pid, const std::string& key);

// "pid 123 (dstrain) state S pgid 120: dstrain worker --job ..." per line.
std::string Describe(const std::vector<ProcInfo>& procs);

}  // namespace dstrain::testing
