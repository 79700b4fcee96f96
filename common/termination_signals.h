#pragma once
// Blocks SIGINT, SIGTERM and SIGUSR1 (what Slurm sends before a time limit
// with --signal=USR1@...) in the calling thread for this object's
// lifetime, so long-running commands (`dstrain launch`, `coordinator`,
// `agent`) receive them in ordinary code (sigwait, signalfd) instead of in a
// signal handler. Threads started afterwards inherit the mask, so construct
// it before starting any (gRPC, the agent): then the signals reach only the
// code that waits for them. Children restore an empty mask themselves
// (agent/process_spawner.cc). The destructor restores the previous mask.
// Not copyable; construct and destroy on the same thread.

#include <signal.h>

namespace dstrain {

class TerminationSignals {
 public:
  TerminationSignals();
  ~TerminationSignals();
  TerminationSignals(const TerminationSignals&) = delete;
  TerminationSignals& operator=(const TerminationSignals&) = delete;

  // {SIGINT, SIGTERM, SIGUSR1}, e.g. for signalfd().
  const sigset_t& set() const { return set_; }

  // Blocks until one of them arrives; returns it.
  int Wait() const;

 private:
  sigset_t set_;
  sigset_t old_mask_;
};

}  // namespace dstrain
