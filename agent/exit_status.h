#pragma once
// Turns a waitpid() status into the wire's WorkerExit. How an exit reads
// (ExitText, IsFailure) is common/rpc/worker_exit.h. Pure functions.

#include <string>

#include "dstrain.pb.h"

namespace dstrain::agent {

proto::WorkerExit ExitFromWaitStatus(int rank, int wait_status);

}  // namespace dstrain::agent
