#pragma once
// A communicator's first failure, kept. Once a collective has failed or
// timed out, the group is unusable (its peers may be stuck inside that
// collective), so every later call fails at once and names the failure that
// broke it. The gloo, mpi and nccl backends all hold one, in the state their
// Works share (Works may outlive their communicator).
//
// No torch here: the pure-pieces library and its fast tests use it.

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "common/status.h"

namespace dstrain::comm {

class AbortLatch {
 public:
  // Whether a failure has been recorded. Lock-free; safe from any thread.
  bool tripped() const { return tripped_.load(); }

  // Records `why` when it is the first failure and then, still under the
  // latch's lock, runs `on_first` (the nccl backend aborts its communicator
  // there, exactly once). Returns `why`, so a backend can write
  // `return latch.Trip(error);`.
  Status Trip(Status why, const std::function<void()>& on_first = nullptr);

  // OK until tripped; then ABORTED:
  //   "<what>: the communicator was aborted by an earlier failure: <first>".
  Status CheckUsable(const std::string& what) const;

 private:
  std::atomic<bool> tripped_{false};
  mutable std::mutex mu_;
  std::string first_failure_;  // guarded by mu_
};

}  // namespace dstrain::comm
