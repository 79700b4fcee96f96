#pragma once
// How a worker's end reads in a job's failure reason, e.g.
//   "rank 1 on vm was killed by SIGKILL"
//   "rank 0 on vm exited with code 3 (loss became NaN)"
//   "rank 1 on vm exited with code 2: dstrain worker: device: cuda but no
//    CUDA device is visible"   (the rank's last_error)
// Pure functions; thread-safe.

#include <string>

#include "dstrain.pb.h"

namespace dstrain::coordinator {

std::string DescribeExit(const proto::WorkerExit& exit,
                         const std::string& host);

}  // namespace dstrain::coordinator
