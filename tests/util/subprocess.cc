#include "tests/util/subprocess.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/worker_env.h"

namespace dstrain::testing {

std::unique_ptr<Subprocess> Subprocess::Start(const SubprocessOptions& options,
                                              std::string* error) {
  agent::ProcessSpec spec;
  spec.argv = options.argv;
  spec.env = agent::CurrentEnvironment();
  for (const auto& e : options.extra_env) spec.env.push_back(e);
  spec.working_dir = options.working_dir;
  std::unique_ptr<Subprocess> sp(new Subprocess());
  sp->spawner_ = agent::NewPosixProcessSpawner();
  auto proc = sp->spawner_->Spawn(spec);
  if (!proc.ok()) {
    *error = proc.status().ToString();
    return nullptr;
  }
  sp->pid_ = proc->pid;
  sp->thread_ = std::thread([raw = sp.get(), p = std::move(*proc)]() mutable {
    raw->Loop(std::move(p));
  });
  return sp;
}

void Subprocess::Loop(agent::SpawnedProcess proc) {
  auto read_some = [&](UniqueFd& fd, std::string* into) {
    char buf[16384];
    while (fd.valid()) {
      ssize_t n = read(fd.get(), buf, sizeof(buf));
      if (n > 0) {
        std::lock_guard<std::mutex> lock(mu_);
        into->append(buf, n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      fd.Reset();
    }
  };
  while (true) {
    pollfd fds[3] = {{proc.stdout_fd.get(), POLLIN, 0},
                     {proc.stderr_fd.get(), POLLIN, 0},
                     {proc.exit_fd.get(), POLLIN, 0}};
    // Without a pidfd, look for the exit every 20 ms.
    poll(fds, 3, proc.exit_fd.valid() ? -1 : 20);
    read_some(proc.stdout_fd, &out_);
    read_some(proc.stderr_fd, &err_);
    if (auto st = spawner_->TryReap(pid_)) {
      // Whatever the child wrote is in the pipes: take it, then stop (a
      // grandchild may hold the pipes open; its output is not ours).
      read_some(proc.stdout_fd, &out_);
      read_some(proc.stderr_fd, &err_);
      std::lock_guard<std::mutex> lock(mu_);
      status_ = *st;
      cv_.notify_all();
      return;
    }
  }
}

Subprocess::~Subprocess() {
  if (!exited()) {
    (void)spawner_->SignalGroup(pid_, SIGKILL);
  }
  if (thread_.joinable()) thread_.join();
}

void Subprocess::Signal(int sig) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!status_) kill(pid_, sig);
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return status_.has_value(); });
  return status_;
}

bool Subprocess::exited() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_.has_value();
}

std::string Subprocess::Stdout() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_;
}

std::string Subprocess::Stderr() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_;
}

int ShellExitCode(int st) {
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return WEXITSTATUS(st);
}

RunResult Run(const SubprocessOptions& options,
              std::chrono::milliseconds timeout) {
  RunResult r;
  std::string error;
  auto sp = Subprocess::Start(options, &error);
  if (!sp) {
    r.err = error;
    return r;
  }
  auto st = sp->Wait(timeout);
  if (!st) {
    r.timed_out = true;
    sp->Signal(SIGKILL);
    st = sp->Wait(std::chrono::seconds(10));
  }
  if (st) r.exit_code = ShellExitCode(*st);
  r.out = sp->Stdout();
  r.err = sp->Stderr();
  return r;
}

}  // namespace dstrain::testing
