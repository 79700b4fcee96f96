#include "coordinator/exit_description.h"

#include "common/rpc/worker_exit.h"

namespace dstrain::coordinator {

std::string DescribeExit(const proto::WorkerExit& exit,
                         const std::string& host) {
  std::string text = "rank " + std::to_string(exit.rank()) + " on " + host +
                     " " + rpc::ExitText(exit);
  if (!exit.reason().empty()) text += " (" + exit.reason() + ")";
  if (!exit.last_error().empty()) text += ": " + exit.last_error();
  return text;
}

}  // namespace dstrain::coordinator
