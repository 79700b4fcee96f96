#include "agent/process_spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace dstrain::agent {
namespace {

constexpr int kMetricsFd = 3;
constexpr int kExecErrorFd = 4;

std::string ErrnoText(int err) { return std::strerror(err); }

// Everything below runs in the child between fork and exec, where only
// async-signal-safe calls are allowed: no allocation, no locks.
[[noreturn]] void ChildFail(int err_fd, int err) {
  ssize_t unused = write(err_fd, &err, sizeof(err));
  (void)unused;
  _exit(127);
}

// Moves `fd` to exactly `target`, clearing close-on-exec on it.
void MoveTo(int fd, int target, int err_fd) {
  if (fd == target) {
    if (fcntl(fd, F_SETFD, 0) != 0) ChildFail(err_fd, errno);
    return;
  }
  if (dup2(fd, target) < 0) ChildFail(err_fd, errno);
}

[[noreturn]] void RunChild(const char* path, char* const argv[],
                           char* const envp[], const char* cwd, pid_t group,
                           pid_t parent, int in_fd, int out_fd, int err_fd_w,
                           int met_fd, int exec_err_fd) {
  if (setpgid(0, group) != 0) ChildFail(exec_err_fd, errno);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(exec_err_fd, errno);
  // The parent may have died before prctl took effect.
  if (getppid() != parent) _exit(127);
  if (cwd != nullptr && chdir(cwd) != 0) ChildFail(exec_err_fd, errno);

  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s == SIGKILL || s == SIGSTOP) continue;
    sigaction(s, &dfl, nullptr);  // fails harmlessly for invalid numbers
  }

  // Lift every source above the targets first so no dup2 clobbers a source.
  int srcs[5] = {in_fd, out_fd, err_fd_w, met_fd, exec_err_fd};
  for (int& fd : srcs) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 16);
    if (high < 0) ChildFail(exec_err_fd, errno);
    fd = high;
  }
  exec_err_fd = srcs[4];
  MoveTo(srcs[0], 0, exec_err_fd);
  MoveTo(srcs[1], 1, exec_err_fd);
  MoveTo(srcs[2], 2, exec_err_fd);
  MoveTo(srcs[3], kMetricsFd, exec_err_fd);
  if (dup3(exec_err_fd, kExecErrorFd, O_CLOEXEC) < 0) {
    ChildFail(exec_err_fd, errno);
  }
  exec_err_fd = kExecErrorFd;
  close_range(kExecErrorFd + 1, ~0U, 0);

  execve(path, argv, envp);
  ChildFail(exec_err_fd, errno);
}

Status SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Internal("fcntl(O_NONBLOCK): " + ErrnoText(errno));
  }
  return Status::Ok();
}

class PosixProcessSpawner : public ProcessSpawner {
 public:
  StatusOr<SpawnedProcess> Spawn(const ProcessSpec& spec) override {
    if (spec.argv.empty() || spec.argv[0].find('/') == std::string::npos) {
      return InvalidArgument(
          "program must be a path containing '/': `" +
          (spec.argv.empty() ? std::string() : spec.argv[0]) + "`");
    }
    // Built before fork: the child must not allocate.
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    int p_out[2], p_err[2], p_met[2], p_exec[2];
    UniqueFd fds[8];
    for (int i = 0; i < 4; ++i) {
      int* p = i == 0 ? p_out : i == 1 ? p_err : i == 2 ? p_met : p_exec;
      if (pipe2(p, O_CLOEXEC) != 0)
        return Internal("pipe2: " + ErrnoText(errno));
      fds[2 * i].Reset(p[0]);
      fds[2 * i + 1].Reset(p[1]);
    }
    UniqueFd devnull(open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!devnull.valid())
      return Internal("open /dev/null: " + ErrnoText(errno));

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return Internal("fork: " + ErrnoText(errno));
    if (pid == 0) {
      RunChild(argv[0], argv.data(), envp.data(),
               spec.working_dir.empty() ? nullptr : spec.working_dir.c_str(),
               spec.process_group, parent, devnull.get(), p_out[1], p_err[1],
               p_met[1], p_exec[1]);
    }
    pid_t group = spec.process_group == 0 ? pid : spec.process_group;
    // Also from the parent, so the group exists before Spawn returns whatever
    // the scheduling; EACCES once the child has exec'd is expected.
    setpgid(pid, group);
    for (int i : {1, 3, 5, 7}) fds[i].Reset();

    int child_errno = 0;
    ssize_t n;
    do {
      n = read(fds[6].get(), &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    if (n == sizeof(child_errno)) {
      int st;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      return FailedPrecondition("cannot run `" + spec.argv[0] +
                                "`: " + ErrnoText(child_errno));
    }

    SpawnedProcess out;
    out.pid = pid;
    out.process_group = group;
    out.stdout_fd = std::move(fds[0]);
    out.stderr_fd = std::move(fds[2]);
    out.metrics_fd = std::move(fds[4]);
    for (UniqueFd* fd : {&out.stdout_fd, &out.stderr_fd, &out.metrics_fd}) {
      DSTRAIN_RETURN_IF_ERROR(SetNonBlocking(fd->get()));
    }
    // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".
    // -1 (ENOSYS) on kernels before 5.3; the launcher then polls waitpid.
    out.exit_fd.Reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
    return out;
  }

  Status SignalGroup(pid_t pgid, int sig) override {
    if (pgid <= 1)
      return InvalidArgument("refusing to signal group " +
                             std::to_string(pgid));
    if (kill(-pgid, sig) != 0 && errno != ESRCH) {
      return Internal("kill(-" + std::to_string(pgid) +
                      "): " + ErrnoText(errno));
    }
    return Status::Ok();
  }

  std::optional<int> TryReap(pid_t pid) override {
    int st = 0;
    pid_t r;
    do {
      r = waitpid(pid, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return std::nullopt;
    if (r < 0) return 255 << 8;  // ECHILD: reaped elsewhere (SIGCHLD ignored)
    return st;
  }
};

}  // namespace

std::unique_ptr<ProcessSpawner> NewPosixProcessSpawner() {
  return std::make_unique<PosixProcessSpawner>();
}

}  // namespace dstrain::agent
