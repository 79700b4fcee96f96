#include "cli/slurm/slurm_step.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "common/program_path.h"

extern char** environ;

namespace dstrain::cli {
namespace {

// In the child, before exec: default signal handling (the launch blocks
// signals for its watcher thread, and a mask survives exec).
void ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
}

std::vector<char*> CStrings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

StatusOr<std::string> RunAndRead(const std::vector<std::string>& argv) {
  const std::string path = FindProgram(argv.at(0));
  if (path.empty()) return NotFound(argv[0] + " is not in PATH");
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return Internal("pipe: " + std::string(std::strerror(errno)));
  }
  std::vector<std::string> args = argv;
  std::vector<char*> cargs = CStrings(args);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Internal("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    ResetSignals();
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(out[1], 1);
    ::dup2(null, 2);
    ::execv(path.c_str(), cargs.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Unavailable(
        "`" + cmd + "` failed" +
        (WIFEXITED(status)
             ? " with exit code " + std::to_string(WEXITSTATUS(status))
             : std::string(" by a signal")));
  }
  return text;
}

SlurmStep::~SlurmStep() { Stop(0); }

Status SlurmStep::Start(const std::vector<std::string>& srun_options,
                        const std::vector<std::string>& command,
                        const std::string& token, const std::string& log_path) {
  const std::string srun = FindProgram("srun");
  if (srun.empty()) {
    return NotFound(
        "srun is not in PATH: inside a Slurm allocation dstrain starts its "
        "coordinator and agents with srun (DSTRAIN_SLURM=0 runs on this "
        "node only)");
  }
  const int log =
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    return Internal("cannot open " + log_path + ": " + std::strerror(errno));
  }
  // --overlap: the step shares the allocation with the batch step (and
  // the workers the agents start belong to it); --cpu-bind=none: the
  // agents bind their ranks themselves (NUMA); --kill-on-bad-exit=0: a
  // task that stops does not take the others down.
  std::vector<std::string> args = {srun, "--overlap", "--cpu-bind=none",
                                   "--kill-on-bad-exit=0"};
  args.insert(args.end(), srun_options.begin(), srun_options.end());
  args.insert(args.end(), command.begin(), command.end());
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "DSTRAIN_TOKEN=", 14) != 0) env.emplace_back(*e);
  }
  env.push_back("DSTRAIN_TOKEN=" + token);
  std::vector<char*> cargs = CStrings(args);
  std::vector<char*> cenv = CStrings(env);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return Internal("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    ResetSignals();
    ::setpgid(0, 0);
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execve(srun.c_str(), cargs.data(), cenv.data());
    ::_exit(127);
  }
  ::close(log);
  pid_ = pid;
  return Status::Ok();
}

bool SlurmStep::Running(int* wait_status) {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_ && wait_status != nullptr) *wait_status = status;
  pid_ = -1;
  return false;
}

void SlurmStep::Stop(double grace_s) {
  if (!Running()) return;
  ::kill(pid_, SIGTERM);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(grace_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Running()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
}

}  // namespace dstrain::cli
