#include "coordinator/exit_description.h"

#include <csignal>

namespace dstrain::coordinator {

std::string SignalName(int signal) {
  // Spelled out rather than sigabbrev_np so messages do not depend on libc.
  switch (signal) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGILL:
      return "SIGILL";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGUSR1:
      return "SIGUSR1";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGUSR2:
      return "SIGUSR2";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGALRM:
      return "SIGALRM";
    case SIGTERM:
      return "SIGTERM";
    case SIGXCPU:
      return "SIGXCPU";
    case SIGXFSZ:
      return "SIGXFSZ";
    case SIGSYS:
      return "SIGSYS";
    default:
      return "signal " + std::to_string(signal);
  }
}

bool IsFailure(const proto::WorkerExit& exit) {
  return exit.signal() != 0 || exit.exit_code() != 0;
}

std::string DescribeExit(const proto::WorkerExit& exit,
                         const std::string& host) {
  std::string text = "rank " + std::to_string(exit.rank()) + " on " + host;
  if (exit.signal() != 0) {
    text += " was killed by " + SignalName(exit.signal());
  } else {
    text += " exited with code " + std::to_string(exit.exit_code());
  }
  if (!exit.reason().empty()) text += " (" + exit.reason() + ")";
  return text;
}

}  // namespace dstrain::coordinator
