#include "agent/exit_status.h"

#include <sys/wait.h>

namespace dstrain::agent {

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

}  // namespace dstrain::agent
