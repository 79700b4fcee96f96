#pragma once
// Runs the worker processes of jobs on this node and watches them.
//
// Each job's ranks share one process group of their own, so a job is
// signalled as a whole. One thread, owned by the launcher and living as long
// as it does, forks every child (PR_SET_PDEATHSIG is tied to the forking
// thread), reads every pipe and reaps every exit; all callbacks run on it,
// in the order things happened for a rank: its log and metrics lines, then
// its exit. Callbacks must be quick and must not call Start (they may call
// Stop).
//
// Policy: when a rank exits non-zero or by a signal, the launcher stops
// the rest of that job's group at once, without waiting to be told: with
// SIGKILL by default (failure_grace_s 0), since their collectives cannot
// complete and a worker takes SIGTERM as a preemption (finish the step,
// write a checkpoint), which would only delay the restart; with a grace,
// SIGTERM first and SIGKILL after it. Stop signals with the caller's
// grace. A job is forgotten once every rank is reaped.
//
// Start/Stop/StopAll/queries are thread-safe. The destructor stops every job
// (SIGKILL at once) and reaps it before returning.

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/process_spawner.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "dstrain.pb.h"

namespace dstrain::agent {

struct RankProcess {
  int rank = 0;
  int local_rank = 0;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // complete environment, "KEY=VALUE"
  // The NUMA binding (agent/numa_binding.h): numa_node < 0, none; else the
  // CPUs it may run on and the node its memory is preferred on.
  int numa_node = -1;
  std::vector<int> cpus;
};

struct JobLaunch {
  std::string job_id;
  int attempt = 0;
  std::vector<RankProcess> ranks;
};

struct LauncherCallbacks {
  // One relayed line of a rank's stdout or stderr, already prefixed with
  // "[rank N host] ". Default: written to stderr.
  std::function<void(int rank, const std::string& line)> on_log;
  // The same line as the rank wrote it (no prefix), with its job, attempt
  // and stream: what the agent keeps for `dstrain logs`.
  std::function<void(const std::string& job_id, int attempt, int rank,
                     bool from_stderr, const std::string& text)>
      on_output;
  // Parsed metrics lines. rank, job_id and attempt are filled in by the
  // launcher (it knows which pipe the line came from).
  std::function<void(const std::string& job_id, int attempt,
                     const proto::StepMetrics&)>
      on_step;
  std::function<void(const std::string& job_id, int attempt,
                     const proto::RankResult&)>
      on_result;
  // Every rank's exit, after its last output line.
  std::function<void(const std::string& job_id, int attempt,
                     const proto::WorkerExit&)>
      on_exit;
  // Every rank of the job has been reaped.
  std::function<void(const std::string& job_id, int attempt)> on_job_done;
};

struct LauncherOptions {
  std::string hostname;  // in the "[rank N host] " prefix
  double failure_grace_s = 0;
  LauncherCallbacks callbacks;
};

class WorkerLauncher {
 public:
  explicit WorkerLauncher(
      LauncherOptions options,
      std::unique_ptr<ProcessSpawner> spawner = NewPosixProcessSpawner());
  ~WorkerLauncher();
  WorkerLauncher(const WorkerLauncher&) = delete;
  WorkerLauncher& operator=(const WorkerLauncher&) = delete;

  // Spawns every rank of the job; returns their pids in the order given.
  // If one cannot be spawned, the ones already started are killed and
  // reaped and the error names the rank. ALREADY_EXISTS if the job id is
  // still running here.
  StatusOr<std::vector<pid_t>> Start(const JobLaunch& launch);

  // SIGTERM to the job's group, SIGKILL after `grace_s` (0: at once).
  // `done(stopped)` runs once every rank is reaped, `stopped` being how
  // many were alive when Stop was called; on the launcher's thread, or at
  // once on the caller's when the job is unknown (stopped = 0).
  void Stop(const std::string& job_id, double grace_s,
            const std::string& reason, std::function<void(int stopped)> done);
  // Blocking form of Stop. Must not be called from a callback.
  int StopAndWait(const std::string& job_id, double grace_s,
                  const std::string& reason);
  // Stops every job and waits until all are reaped.
  void StopAll(double grace_s, const std::string& reason);

  std::vector<std::string> JobIds() const;
  // Global ranks not yet reaped, over all jobs.
  std::vector<int> RunningRanks() const;
  // The same per job attempt (jobs with none left are not listed).
  std::vector<proto::RunningJob> RunningJobs() const;
  // The job's process group, or -1 when unknown.
  pid_t ProcessGroup(const std::string& job_id) const;

 private:
  struct Rank;
  struct Job;
  struct StartRequest;
  using Event = std::function<void()>;

  void Loop();
  void Wake();
  // The *Locked helpers need mu_ held and append callbacks to `events`.
  void HandleStartLocked(StartRequest& req);
  void ReadPipeLocked(Job& job, Rank& r, int which, bool drain,
                      std::vector<Event>& events);
  void HandleLineLocked(Job& job, Rank& r, int which, std::string_view line,
                        std::vector<Event>& events);
  void ReapLocked(Job& job, Rank& r, int wait_status,
                  std::vector<Event>& events);
  void BeginStopLocked(Job& job, double grace_s, const std::string& reason);

  const LauncherOptions options_;
  const std::unique_ptr<ProcessSpawner> spawner_;
  UniqueFd wake_fd_;  // eventfd that interrupts the thread's poll

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_: running jobs by id, pending starts, shutdown flag.
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::vector<StartRequest*> start_queue_;
  bool shutting_down_ = false;

  std::thread thread_;
};

}  // namespace dstrain::agent
