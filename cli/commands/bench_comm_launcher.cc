#include "cli/commands/bench_comm_launcher.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/loopback_port.h"
#include "common/program_path.h"
#include "common/termination_signals.h"

extern char** environ;

namespace dstrain::cli {
namespace {

using Clock = std::chrono::steady_clock;

// The launcher's own variables replace any inherited ones.
constexpr const char* kRankVariables[] = {
    "RANK=",        "WORLD_SIZE=",  "LOCAL_RANK=", "LOCAL_WORLD_SIZE=",
    "MASTER_ADDR=", "MASTER_PORT=", "GROUP_RANK=", "NODE_RANK="};

// This process's environment without the rank variables, then (rank >= 0)
// the torchrun-style ones for `rank`.
std::vector<std::string> ChildEnv(int rank, int ranks, int port) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    bool ours = false;
    for (const char* v : kRankVariables) {
      ours = ours || std::strncmp(*e, v, std::strlen(v)) == 0;
    }
    if (!ours) env.emplace_back(*e);
  }
  if (rank < 0) return env;
  env.push_back("RANK=" + std::to_string(rank));
  env.push_back("WORLD_SIZE=" + std::to_string(ranks));
  env.push_back("LOCAL_RANK=" + std::to_string(rank));
  env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(ranks));
  env.push_back("MASTER_ADDR=127.0.0.1");
  env.push_back("MASTER_PORT=" + std::to_string(port));
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) {
    return "exited with code " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("was killed by ") +
           (name != nullptr ? std::string("SIG") + name
                            : "signal " + std::to_string(WTERMSIG(status)));
  }
  return "ended (status " + std::to_string(status) + ")";
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

std::string ThisExecutable() {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "";
  exe[n] = '\0';
  return exe;
}

struct ChildSpec {
  std::string name;  // "rank 2", "mpirun"
  std::vector<std::string> argv;
  std::vector<std::string> env;
};

struct Child {
  pid_t pid = -1;
  std::optional<int> status;  // once reaped
};

// Starts every spec in one new process group and waits for all of them,
// with the stop rules of bench_comm_launcher.h.
int RunChildren(std::vector<ChildSpec> specs, const std::string& what,
                std::chrono::milliseconds grace) {
  // SIGINT and SIGTERM (from TerminationSignals) and SIGCHLD are taken with
  // sigtimedwait below; the children restore an empty mask before exec.
  TerminationSignals termination;
  sigset_t waited = termination.set();
  sigaddset(&waited, SIGCHLD);
  sigset_t before;
  pthread_sigmask(SIG_BLOCK, &waited, &before);

  const int count = static_cast<int>(specs.size());
  std::vector<Child> children(count);
  pid_t group = 0;
  int started = 0;
  std::string spawn_error;
  for (ChildSpec& spec : specs) {
    std::vector<char*> argv = Pointers(spec.argv);
    std::vector<char*> env = Pointers(spec.env);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      spawn_error = std::string("fork: ") + std::strerror(errno);
      break;
    }
    if (pid == 0) {
      // Only async-signal-safe calls until exec.
      ::setpgid(0, group);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the launcher already died
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execve(argv[0], argv.data(), env.data());
      ::_exit(127);
    }
    ::setpgid(pid, group);  // also here: no race with the child's own call
    if (group == 0) group = pid;
    children[started].pid = pid;
    ++started;
  }

  int first_failed = -1;
  bool interrupted = false;
  int signals = 0;
  std::optional<Clock::time_point> kill_at;
  auto stop_all = [&](bool now) {
    if (group == 0) return;
    ::kill(-group, now ? SIGKILL : SIGTERM);
    if (!now && !kill_at) kill_at = Clock::now() + grace;
  };
  if (!spawn_error.empty()) stop_all(false);

  int running = started;
  while (running > 0) {
    // Reap whoever has exited. Of failures found together, a child killed
    // by a signal is named: its peers' errors are usually its consequence.
    int failed_now = -1;
    for (int i = 0; i < started; ++i) {
      Child& c = children[i];
      if (c.status) continue;
      int status = 0;
      if (::waitpid(c.pid, &status, WNOHANG) != c.pid) continue;
      c.status = status;
      --running;
      if (ExitCodeOf(status) != 0 &&
          (failed_now < 0 || (WIFSIGNALED(status) &&
                              !WIFSIGNALED(*children[failed_now].status)))) {
        failed_now = i;
      }
    }
    if (failed_now >= 0 && first_failed < 0 && !interrupted) {
      first_failed = failed_now;
      stop_all(false);
    }
    if (running == 0) break;
    if (kill_at && Clock::now() >= *kill_at) {
      stop_all(true);
      kill_at.reset();
    }
    timespec tick{0, 100 * 1000 * 1000};  // re-check the grace deadline
    siginfo_t info;
    const int sig = ::sigtimedwait(&waited, &info, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      interrupted = true;
      stop_all(++signals > 1);
    }
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);

  if (!spawn_error.empty()) {
    std::fprintf(stderr, "%s: could not start %s: %s\n", what.c_str(),
                 specs[started].name.c_str(), spawn_error.c_str());
    return 1;
  }
  if (interrupted) return 130;
  if (first_failed >= 0) {
    const int status = *children[first_failed].status;
    std::fprintf(stderr, "%s: %s %s%s\n", what.c_str(),
                 specs[first_failed].name.c_str(), DescribeExit(status).c_str(),
                 count > 1 ? "; stopped the others" : "");
    return ExitCodeOf(status);
  }
  return 0;
}

}  // namespace

int RunLocalRanks(const LocalRanksOptions& options) {
  const std::string exe = ThisExecutable();
  if (exe.empty()) {
    std::fprintf(stderr, "%s: cannot find this executable: %s\n",
                 options.what.c_str(), std::strerror(errno));
    return 1;
  }
  const int port = FreeLoopbackPort();
  if (port == 0) {
    std::fprintf(stderr, "%s: no free port on 127.0.0.1: %s\n",
                 options.what.c_str(), std::strerror(errno));
    return 1;
  }
  std::vector<ChildSpec> specs;
  for (int r = 0; r < options.ranks; ++r) {
    ChildSpec spec;
    spec.name = "rank " + std::to_string(r);
    spec.argv = {exe};
    spec.argv.insert(spec.argv.end(), options.args.begin(), options.args.end());
    spec.env = ChildEnv(r, options.ranks, port);
    specs.push_back(std::move(spec));
  }
  return RunChildren(std::move(specs), options.what, options.grace);
}

int RunUnderMpirun(const LocalRanksOptions& options) {
  const std::string exe = ThisExecutable();
  const std::string mpirun = FindProgram("mpirun");
  if (exe.empty() || mpirun.empty()) {
    std::fprintf(stderr, "%s: %s\n", options.what.c_str(),
                 exe.empty() ? "cannot find this executable"
                             : "mpirun is not on PATH (Debian: openmpi-bin)");
    return 1;
  }
  ChildSpec spec;
  spec.name = "mpirun";
  spec.argv = {mpirun,
               "-np",
               std::to_string(options.ranks),
               "--allow-run-as-root",
               "--oversubscribe",
               "--mca",
               "btl",
               "self,tcp",
               "--mca",
               "btl_tcp_if_include",
               "lo",
               "--mca",
               "oob_tcp_if_include",
               "lo",
               exe};
  spec.argv.insert(spec.argv.end(), options.args.begin(), options.args.end());
  spec.env = ChildEnv(-1, 0, 0);
  std::vector<ChildSpec> specs;
  specs.push_back(std::move(spec));
  return RunChildren(std::move(specs), options.what, options.grace);
}

}  // namespace dstrain::cli
