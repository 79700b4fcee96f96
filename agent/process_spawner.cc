#include "agent/process_spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace dstrain::agent {
namespace {

constexpr int kExecErrorFd = 4;

std::string ErrnoText(int err) { return std::strerror(err); }

// What the child was doing when it failed, sent with errno (stage << 16 |
// errno) so the parent's error says which step it was.
enum ChildStage : int { kOther = 0, kAffinity = 1, kMemoryPolicy = 2 };

// The binding, prepared before fork.
struct ChildBinding {
  const cpu_set_t* cpus = nullptr;  // null: leave the affinity alone
  std::size_t cpus_size = 0;
  const unsigned long* nodes = nullptr;  // null: leave the memory policy
  unsigned long max_node = 0;  // set_mempolicy(2)'s maxnode for `nodes`
};

// Everything below runs in the child between fork and exec, where only
// async-signal-safe calls are allowed: no allocation, no locks.
[[noreturn]] void ChildFail(int err_fd, int err, ChildStage stage = kOther) {
  const int code = stage << 16 | err;
  ssize_t unused = write(err_fd, &code, sizeof(code));
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
                           pid_t parent, const ChildBinding& binding, int in_fd,
                           int out_fd, int err_fd_w, int met_fd,
                           int exec_err_fd) {
  if (setpgid(0, group) != 0) ChildFail(exec_err_fd, errno);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(exec_err_fd, errno);
  // The parent may have died before prctl took effect.
  if (getppid() != parent) _exit(127);
  if (cwd != nullptr && chdir(cwd) != 0) ChildFail(exec_err_fd, errno);
  if (binding.cpus != nullptr &&
      sched_setaffinity(0, binding.cpus_size, binding.cpus) != 0) {
    ChildFail(exec_err_fd, errno, kAffinity);
  }
  if (binding.nodes != nullptr &&
      syscall(SYS_set_mempolicy, MPOL_PREFERRED, binding.nodes,
              binding.max_node) != 0) {
    ChildFail(exec_err_fd, errno, kMemoryPolicy);
  }

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

// A dynamically sized cpu_set_t (CPU_ALLOC), so CPU numbers past 1023 work.
class CpuSet {
 public:
  explicit CpuSet(const std::vector<int>& cpus) {
    int highest = -1;
    for (int c : cpus) {
      if (c < 0) return;
      highest = std::max(highest, c);
    }
    if (highest < 0) return;
    set_.reset(CPU_ALLOC(highest + 1));
    size_ = CPU_ALLOC_SIZE(highest + 1);
    CPU_ZERO_S(size_, set_.get());
    for (int c : cpus) CPU_SET_S(c, size_, set_.get());
  }
  bool valid() const { return set_ != nullptr; }
  const cpu_set_t* get() const { return set_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(cpu_set_t* s) const { CPU_FREE(s); }
  };
  std::unique_ptr<cpu_set_t, Free> set_;
  std::size_t size_ = 0;
};

// "0,1,2" for an error message.
std::string CpuList(const std::vector<int>& cpus) {
  std::string out;
  for (int c : cpus) out += (out.empty() ? "" : ",") + std::to_string(c);
  return out;
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
    ChildBinding binding;
    CpuSet cpus(spec.cpus);
    if (!spec.cpus.empty()) {
      if (!cpus.valid()) {
        return InvalidArgument("cannot bind `" + spec.argv[0] +
                               "` to a negative CPU number");
      }
      binding.cpus = cpus.get();
      binding.cpus_size = cpus.size();
    }
    std::vector<unsigned long> nodes;
    if (spec.preferred_numa_node >= 0) {
      constexpr int kBits = 8 * sizeof(unsigned long);
      nodes.assign(spec.preferred_numa_node / kBits + 1, 0);
      nodes[spec.preferred_numa_node / kBits] |=
          1UL << (spec.preferred_numa_node % kBits);
      binding.nodes = nodes.data();
      // The kernel reads max_node - 1 bits; one more than the highest.
      binding.max_node = nodes.size() * kBits + 1;
    }

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
               spec.process_group, parent, binding, devnull.get(), p_out[1],
               p_err[1], p_met[1], p_exec[1]);
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
      const int stage = child_errno >> 16;
      const std::string why = ErrnoText(child_errno & 0xffff);
      if (stage == kAffinity) {
        return FailedPrecondition("cannot bind `" + spec.argv[0] +
                                  "` to CPUs " + CpuList(spec.cpus) + ": " +
                                  why);
      }
      if (stage == kMemoryPolicy) {
        return FailedPrecondition("cannot prefer NUMA node " +
                                  std::to_string(spec.preferred_numa_node) +
                                  " for the memory of `" + spec.argv[0] +
                                  "`: " + why);
      }
      return FailedPrecondition("cannot run `" + spec.argv[0] + "`: " + why);
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
