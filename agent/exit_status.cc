#include "agent/exit_status.h"

#include <string.h>
#include <sys/wait.h>

namespace dstrain::agent {

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev == nullptr) return "signal " + std::to_string(sig);
  return std::string("SIG") + abbrev;
}

proto::WorkerExit ExitFromWaitStatus(int rank, int wait_status) {
  proto::WorkerExit e;
  e.set_rank(rank);
  if (WIFSIGNALED(wait_status)) {
    e.set_signal(WTERMSIG(wait_status));
  } else if (WIFEXITED(wait_status)) {
    e.set_exit_code(WEXITSTATUS(wait_status));
  } else {
    e.set_exit_code(-1);  // stopped/continued never reach here (no WUNTRACED)
  }
  return e;
}

std::string ExitText(const proto::WorkerExit& e) {
  if (e.signal() != 0) return "was killed by " + SignalName(e.signal());
  return "exited with code " + std::to_string(e.exit_code());
}

}  // namespace dstrain::agent
