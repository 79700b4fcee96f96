#include "cli/signal_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>

namespace dstrain::cli {

SignalWatcher::SignalWatcher(Handler handler) : handler_(std::move(handler)) {
  signal_fd_.Reset(signalfd(-1, &blocked_.set(), SFD_CLOEXEC));
  wake_fd_.Reset(eventfd(0, EFD_CLOEXEC));
  thread_ = std::thread([this] { Loop(); });
}

SignalWatcher::~SignalWatcher() {
  std::uint64_t one = 1;
  ssize_t unused = write(wake_fd_.get(), &one, sizeof(one));
  (void)unused;
  thread_.join();  // the descriptors close after it, as members
}

void SignalWatcher::Loop() {
  while (true) {
    pollfd fds[2] = {{signal_fd_.get(), POLLIN, 0},
                     {wake_fd_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;  // EINTR
    if (fds[1].revents != 0) return;
    signalfd_siginfo info;
    if (read(signal_fd_.get(), &info, sizeof(info)) != sizeof(info)) continue;
    int n = ++count_;
    handler_(static_cast<int>(info.ssi_signo), n);
  }
}

}  // namespace dstrain::cli
