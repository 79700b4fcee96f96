#pragma once
// Runs a program (usually build/bin/dstrain) as a child for a test: output
// captured, a deadline on waiting, signals on demand. The child leads its
// own process group and dies with the test (PR_SET_PDEATHSIG), through the
// agent's ProcessSpawner. One thread per Subprocess reads its pipes and
// reaps it; every method is thread-safe.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/process_spawner.h"

namespace dstrain::testing {

struct SubprocessOptions {
  std::vector<std::string> argv;       // argv[0] must contain '/'
  std::vector<std::string> extra_env;  // "KEY=VALUE", added to this process's
  std::string working_dir;             // "" = the test's
};

class Subprocess {
 public:
  // nullptr and `*error` set when the program cannot be started.
  static std::unique_ptr<Subprocess> Start(const SubprocessOptions& options,
                                           std::string* error);
  // Kills the child's process group (SIGKILL) if it still runs, reaps it.
  ~Subprocess();

  pid_t pid() const { return pid_; }
  void Signal(int sig);

  // The wait status once the child has exited, nullopt if `timeout` passed
  // first.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool exited() const;

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  Subprocess() = default;
  void Loop(agent::SpawnedProcess proc);

  pid_t pid_ = -1;
  std::unique_ptr<agent::ProcessSpawner> spawner_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::string out_, err_;
  std::optional<int> status_;
  std::thread thread_;
};

// Exit code, or 128 + signal when killed, as a shell reports it.
int ShellExitCode(int wait_status);

struct RunResult {
  bool timed_out = false;
  int exit_code = -1;  // ShellExitCode
  std::string out, err;
};

// Starts, waits up to `timeout` (then kills), returns everything.
RunResult Run(const SubprocessOptions& options,
              std::chrono::milliseconds timeout);

}  // namespace dstrain::testing
