#include "worker/comm/abort_latch.h"

namespace dstrain::comm {

Status AbortLatch::Trip(Status why, const std::function<void()>& on_first) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tripped_.exchange(true)) {
    first_failure_ = why.message();
    if (on_first) on_first();
  }
  return why;
}

Status AbortLatch::CheckUsable(const std::string& what) const {
  if (!tripped_.load()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  return Status(StatusCode::kAborted,
                what +
                    ": the communicator was aborted by an earlier failure: " +
                    first_failure_);
}

}  // namespace dstrain::comm
