#pragma once
// Starts, signals and reaps child processes: the small interface the worker
// launcher uses, so its policy (group kill on failure, grace then SIGKILL)
// is written against it and not against fork/exec directly.
//
// The POSIX implementation fork/execs each child with
//   - stdin on /dev/null, stdout and stderr on pipes, fd 3 on a third pipe
//     (the metrics pipe), every other descriptor closed;
//   - its own process group: a new one led by the child, or an existing one
//     (`process_group`), so a job's ranks are signalled together;
//   - PR_SET_PDEATHSIG(SIGKILL), so children die with the thread that forked
//     them: call Spawn from a thread that lives as long as the children
//     should (the launcher's own thread);
//   - the signal mask emptied and every signal at its default action, since
//     both survive exec and the embedding process may block or ignore some;
//   - optionally bound (`cpus`, `preferred_numa_node`): its CPU affinity and
//     its memory policy (MPOL_PREFERRED) set before exec, so the program and
//     every thread it starts inherit them (agent/numa_binding.h).
// A failed exec is reported as an error from Spawn, not as a child that
// exits 127. Spawn/SignalGroup/TryReap may be called from any thread.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/unique_fd.h"

namespace dstrain::agent {

// The descriptor a child finds the metrics pipe on.
inline constexpr int kMetricsFd = 3;

struct ProcessSpec {
  // argv[0] is the program: an absolute path or one containing '/'.
  std::vector<std::string> argv;
  // The complete environment, "KEY=VALUE" each.
  std::vector<std::string> env;
  // 0: the child leads a new process group (pgid = its pid).
  pid_t process_group = 0;
  // "" = the parent's working directory.
  std::string working_dir;
  // Empty: the parent's affinity. Otherwise the only CPUs it may run on.
  std::vector<int> cpus;
  // >= 0: allocate memory on this NUMA node first (others when it is full).
  int preferred_numa_node = -1;
};

struct SpawnedProcess {
  pid_t pid = -1;
  pid_t process_group = -1;
  // Read ends, non-blocking and close-on-exec.
  UniqueFd stdout_fd;
  UniqueFd stderr_fd;
  UniqueFd metrics_fd;
  // A pidfd that polls readable once the child has exited; invalid where
  // the kernel lacks pidfd_open (then poll TryReap periodically).
  UniqueFd exit_fd;
};

class ProcessSpawner {
 public:
  virtual ~ProcessSpawner() = default;
  virtual StatusOr<SpawnedProcess> Spawn(const ProcessSpec& spec) = 0;
  // kill(-pgid, sig). The caller must know a member of the group has not
  // been reaped yet, or the id may belong to someone else by now.
  virtual Status SignalGroup(pid_t pgid, int sig) = 0;
  // The wait status if `pid` has exited (reaping it), nullopt if it still
  // runs. A child reaped by someone else reads as exit code 255.
  virtual std::optional<int> TryReap(pid_t pid) = 0;
};

std::unique_ptr<ProcessSpawner> NewPosixProcessSpawner();

}  // namespace dstrain::agent
