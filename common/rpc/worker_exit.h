#pragma once
// How a worker's end reads to a person, shared by the agent (which sees the
// exit) and the coordinator (which explains the job's failure):
//   "exited with code 3", "was killed by SIGKILL".
// Pure functions; thread-safe.

#include <string>

#include "dstrain.pb.h"

namespace dstrain::rpc {

// "SIGKILL" for 9; "signal 77" for numbers without a common name. Spelled
// out rather than sigabbrev_np so messages do not depend on the libc.
std::string SignalName(int signal);

// True when the rank exited with a non-zero code or was killed by a signal.
bool IsFailure(const proto::WorkerExit& exit);

// "exited with code 3" / "was killed by SIGKILL" (WorkerExit.reason is left
// to the caller, who knows the context).
std::string ExitText(const proto::WorkerExit& exit);

}  // namespace dstrain::rpc
