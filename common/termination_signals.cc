#include "common/termination_signals.h"

#include <pthread.h>

namespace dstrain {

TerminationSignals::TerminationSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
}

TerminationSignals::~TerminationSignals() {
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

int TerminationSignals::Wait() const {
  int received = 0;
  while (sigwait(&set_, &received) != 0) {
  }
  return received;
}

}  // namespace dstrain
