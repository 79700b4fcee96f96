#pragma once
// Turns a waitpid() status into the wire's WorkerExit, and an exit into the
// words a person reads ("exited with code 1", "was killed by SIGKILL").
// WorkerExit.reason is left to the caller: it carries context the status
// does not (the coordinator prints it in parentheses after the exit).
// Pure functions.

#include <string>

#include "dstrain.pb.h"

namespace dstrain::agent {

// "SIGKILL" for 9; "signal 99" for numbers without a name.
std::string SignalName(int sig);

proto::WorkerExit ExitFromWaitStatus(int rank, int wait_status);

// "exited with code 3" / "was killed by SIGKILL".
std::string ExitText(const proto::WorkerExit& exit);

// True when the rank exited with a non-zero code or was killed by a signal.
inline bool IsFailure(const proto::WorkerExit& e) {
  return e.signal() != 0 || e.exit_code() != 0;
}

}  // namespace dstrain::agent
