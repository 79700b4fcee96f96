#pragma once
// How a worker's end reads in a job's failure reason, e.g.
//   "rank 1 on vm was killed by SIGKILL"
//   "rank 0 on vm exited with code 3 (loss became NaN)"
// Pure functions; thread-safe.

#include <string>

#include "dstrain.pb.h"

namespace dstrain::coordinator {

// "SIGKILL" for 9; "signal 77" for numbers without a common name.
std::string SignalName(int signal);

// True when the exit is a failure (a signal, or a non-zero exit code).
bool IsFailure(const proto::WorkerExit& exit);

std::string DescribeExit(const proto::WorkerExit& exit,
                         const std::string& host);

}  // namespace dstrain::coordinator
