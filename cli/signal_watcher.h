#pragma once
// Turns SIGINT and SIGTERM into calls of a handler on a thread of its own,
// so a long-running command can react in ordinary code (cancel a job, then
// kill at once on the second signal) instead of in a signal handler.
//
// The constructor blocks both signals in the calling thread
// (common/termination_signals.h), so construct it before starting any thread
// (gRPC, the agent): then the signals reach only this watcher.
// The handler runs on the watcher's thread with the signal and how many
// have arrived so far (1 for the first). The destructor stops the thread and
// restores the mask. Not copyable; one per process at a time.

#include <atomic>
#include <functional>
#include <thread>

#include "common/termination_signals.h"
#include "common/unique_fd.h"

namespace dstrain::cli {

class SignalWatcher {
 public:
  using Handler = std::function<void(int signal, int count)>;
  explicit SignalWatcher(Handler handler);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  int count() const { return count_.load(); }

 private:
  void Loop();

  TerminationSignals blocked_;  // first member: blocks before the thread starts
  Handler handler_;
  UniqueFd signal_fd_;
  UniqueFd wake_fd_;  // written to stop the thread
  std::atomic<int> count_{0};
  std::thread thread_;
};

}  // namespace dstrain::cli
