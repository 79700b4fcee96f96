#include "agent/worker_launcher.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <future>
#include <optional>

#include "agent/exit_status.h"
#include "agent/line_splitter.h"
#include "agent/metrics_line.h"
#include "common/contract/exit_codes.h"
#include "common/rpc/worker_exit.h"

namespace dstrain::agent {

using Clock = std::chrono::steady_clock;

namespace {
constexpr int kStdout = 0, kStderr = 1, kMetrics = 2, kExit = 3;
// Without pidfds, exits are found by polling waitpid this often.
constexpr int kReapPollMs = 50;
// Reads per pipe per wake-up, so one chatty rank cannot starve the others.
constexpr int kReadsPerWake = 4;
// Reads when draining a dead rank's pipes (16 MiB): bounded in case a
// grandchild keeps writing into an inherited pipe.
constexpr int kDrainReads = 256;
// How much of a failed rank's stderr travels in its exit report.
constexpr std::size_t kLastErrorLines = 2;
constexpr std::size_t kMaxLastErrorLine = 400;
}  // namespace

struct WorkerLauncher::Rank {
  int rank = 0;
  int local_rank = 0;
  pid_t pid = -1;
  UniqueFd pipes[3];
  LineSplitter split[3];
  UniqueFd exit_fd;
  bool exited = false;
  std::string prefix;  // "[rank N host] "
  // Its last non-blank stderr lines, for the reason when it fails.
  std::deque<std::string> last_stderr;
};

struct WorkerLauncher::Job {
  std::string id;
  int attempt = 0;
  pid_t pgid = -1;
  std::vector<Rank> ranks;
  int alive = 0;
  bool stopping = false;
  bool sent_term = false;
  std::string stop_reason;  // why the rest are being stopped
  std::optional<Clock::time_point> kill_at;
  std::vector<std::function<void()>> waiters;  // run once all are reaped
};

struct WorkerLauncher::StartRequest {
  const JobLaunch* launch = nullptr;
  std::optional<StatusOr<std::vector<pid_t>>> result;
};

WorkerLauncher::WorkerLauncher(LauncherOptions options,
                               std::unique_ptr<ProcessSpawner> spawner)
    : options_(std::move(options)), spawner_(std::move(spawner)) {
  wake_fd_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  thread_ = std::thread([this] { Loop(); });
}

WorkerLauncher::~WorkerLauncher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& [id, job] : jobs_) {
      BeginStopLocked(*job, 0, "stopped: the agent is shutting down");
    }
  }
  Wake();
  thread_.join();
}

void WorkerLauncher::Wake() {
  std::uint64_t one = 1;
  ssize_t unused = write(wake_fd_.get(), &one, sizeof(one));
  (void)unused;
}

StatusOr<std::vector<pid_t>> WorkerLauncher::Start(const JobLaunch& launch) {
  if (std::this_thread::get_id() == thread_.get_id()) {
    return FailedPrecondition("WorkerLauncher::Start called from a callback");
  }
  StartRequest req;
  req.launch = &launch;
  std::unique_lock<std::mutex> lock(mu_);
  if (shutting_down_)
    return FailedPrecondition("the launcher is shutting down");
  start_queue_.push_back(&req);
  Wake();
  cv_.wait(lock, [&] { return req.result.has_value(); });
  return std::move(*req.result);
}

void WorkerLauncher::HandleStartLocked(StartRequest& req) {
  const JobLaunch& launch = *req.launch;
  if (shutting_down_) {
    req.result = FailedPrecondition("the launcher is shutting down");
    return;
  }
  if (jobs_.count(launch.job_id) != 0) {
    req.result = Status(StatusCode::kAlreadyExists,
                        "job " + launch.job_id + " is already running here");
    return;
  }
  auto job = std::make_unique<Job>();
  job->id = launch.job_id;
  job->attempt = launch.attempt;
  job->ranks.reserve(launch.ranks.size());
  std::vector<pid_t> pids;
  for (const RankProcess& rp : launch.ranks) {
    ProcessSpec spec;
    spec.argv = rp.argv;
    spec.env = rp.env;
    spec.process_group = job->pgid > 0 ? job->pgid : 0;
    spec.cpus = rp.cpus;
    spec.preferred_numa_node = rp.numa_node;
    auto spawned = spawner_->Spawn(spec);
    if (!spawned.ok()) {
      // Undo: kill what started and reap it here, so a failed Start leaves
      // nothing behind and reports no exits.
      if (job->pgid > 0) (void)spawner_->SignalGroup(job->pgid, SIGKILL);
      for (Rank& r : job->ranks) {
        while (!spawner_->TryReap(r.pid).has_value()) {
          pollfd p{r.exit_fd.get(), POLLIN, 0};
          poll(&p, r.exit_fd.valid() ? 1 : 0, r.exit_fd.valid() ? -1 : 10);
        }
      }
      req.result = Status(spawned.status().code(),
                          "rank " + std::to_string(rp.rank) + ": " +
                              spawned.status().message());
      return;
    }
    if (job->pgid <= 0) job->pgid = spawned->process_group;
    Rank r;
    r.rank = rp.rank;
    r.local_rank = rp.local_rank;
    r.pid = spawned->pid;
    r.pipes[kStdout] = std::move(spawned->stdout_fd);
    r.pipes[kStderr] = std::move(spawned->stderr_fd);
    r.pipes[kMetrics] = std::move(spawned->metrics_fd);
    r.exit_fd = std::move(spawned->exit_fd);
    r.prefix =
        "[rank " + std::to_string(rp.rank) + " " + options_.hostname + "] ";
    job->ranks.push_back(std::move(r));
    pids.push_back(spawned->pid);
  }
  job->alive = static_cast<int>(job->ranks.size());
  if (job->alive > 0) jobs_[launch.job_id] = std::move(job);
  req.result = std::move(pids);
}

void WorkerLauncher::BeginStopLocked(Job& job, double grace_s,
                                     const std::string& reason) {
  if (!job.stopping) {
    job.stopping = true;
    job.stop_reason = reason;
  }
  if (job.alive == 0) return;
  if (grace_s <= 0) {
    (void)spawner_->SignalGroup(job.pgid, SIGKILL);
    job.kill_at.reset();
    return;
  }
  if (!job.sent_term) {
    (void)spawner_->SignalGroup(job.pgid, SIGTERM);
    job.sent_term = true;
  }
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(grace_s));
  if (!job.kill_at || deadline < *job.kill_at) job.kill_at = deadline;
}

void WorkerLauncher::Stop(const std::string& job_id, double grace_s,
                          const std::string& reason,
                          std::function<void(int stopped)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = jobs_.find(job_id);
    if (it != jobs_.end()) {
      Job& job = *it->second;
      int stopped = job.alive;
      if (done) job.waiters.push_back([done, stopped] { done(stopped); });
      BeginStopLocked(job, grace_s,
                      reason.empty() ? "stopped" : "stopped: " + reason);
      Wake();
      return;
    }
  }
  if (done) done(0);
}

int WorkerLauncher::StopAndWait(const std::string& job_id, double grace_s,
                                const std::string& reason) {
  auto p = std::make_shared<std::promise<int>>();
  auto f = p->get_future();
  Stop(job_id, grace_s, reason, [p](int n) { p->set_value(n); });
  return f.get();
}

void WorkerLauncher::StopAll(double grace_s, const std::string& reason) {
  std::vector<std::future<int>> waits;
  for (const auto& id : JobIds()) {
    auto p = std::make_shared<std::promise<int>>();
    waits.push_back(p->get_future());
    Stop(id, grace_s, reason, [p](int n) { p->set_value(n); });
  }
  for (auto& w : waits) w.wait();
}

std::vector<std::string> WorkerLauncher::JobIds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, job] : jobs_) ids.push_back(id);
  return ids;
}

std::vector<int> WorkerLauncher::RunningRanks() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int> ranks;
  for (const auto& [id, job] : jobs_) {
    for (const Rank& r : job->ranks) {
      if (!r.exited) ranks.push_back(r.rank);
    }
  }
  std::sort(ranks.begin(), ranks.end());
  return ranks;
}

std::vector<proto::RunningJob> WorkerLauncher::RunningJobs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<proto::RunningJob> running;
  for (const auto& [id, job] : jobs_) {
    proto::RunningJob r;
    r.set_job_id(id);
    r.set_attempt(job->attempt);
    std::vector<int> ranks;
    for (const Rank& rank : job->ranks) {
      if (!rank.exited) ranks.push_back(rank.rank);
    }
    if (ranks.empty()) continue;
    std::sort(ranks.begin(), ranks.end());
    for (int k : ranks) r.add_ranks(k);
    running.push_back(std::move(r));
  }
  return running;
}

pid_t WorkerLauncher::ProcessGroup(const std::string& job_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? -1 : it->second->pgid;
}

void WorkerLauncher::HandleLineLocked(Job& job, Rank& r, int which,
                                      std::string_view line,
                                      std::vector<Event>& events) {
  const LauncherCallbacks& cb = options_.callbacks;
  auto log = [&](std::string text) {
    events.push_back([this, rank = r.rank, text = std::move(text)] {
      if (options_.callbacks.on_log) {
        options_.callbacks.on_log(rank, text);
      } else {
        std::string out = text + "\n";
        fwrite(out.data(), 1, out.size(), stderr);
      }
    });
  };
  if (which != kMetrics) {
    if (cb.on_output) {
      events.push_back([this, id = job.id, a = job.attempt, rank = r.rank,
                        err = which == kStderr, text = std::string(line)] {
        options_.callbacks.on_output(id, a, rank, err, text);
      });
    }
    if (which == kStderr &&
        line.find_first_not_of(" \t\r") != std::string_view::npos) {
      r.last_stderr.emplace_back(line.substr(0, kMaxLastErrorLine));
      if (r.last_stderr.size() > kLastErrorLines) r.last_stderr.pop_front();
    }
    log(r.prefix + std::string(line));
    return;
  }
  auto parsed = ParseMetricsLine(line);
  if (!parsed.ok()) {
    log(r.prefix + "dropped a metrics line: " + parsed.status().message());
    return;
  }
  if (parsed->kind == MetricsLine::Kind::kStep) {
    proto::StepMetrics m = std::move(parsed->step);
    m.set_rank(r.rank);
    m.set_job_id(job.id);
    m.set_attempt(job.attempt);
    if (cb.on_step) {
      events.push_back([this, id = job.id, a = job.attempt, m = std::move(m)] {
        options_.callbacks.on_step(id, a, m);
      });
    }
  } else {
    proto::RankResult res = std::move(parsed->result);
    res.set_rank(r.rank);
    if (cb.on_result) {
      events.push_back(
          [this, id = job.id, a = job.attempt, res = std::move(res)] {
            options_.callbacks.on_result(id, a, res);
          });
    }
  }
}

void WorkerLauncher::ReadPipeLocked(Job& job, Rank& r, int which, bool drain,
                                    std::vector<Event>& events) {
  UniqueFd& fd = r.pipes[which];
  if (!fd.valid()) return;
  auto on_line = [&](std::string_view line) {
    HandleLineLocked(job, r, which, line, events);
  };
  char buf[64 * 1024];
  int reads = 0;
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n > 0) {
      r.split[which].Feed(std::string_view(buf, n), on_line);
      if (++reads < (drain ? kDrainReads : kReadsPerWake)) continue;
      if (!drain) return;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN && !drain) {
      return;
    }
    // EOF, an error, or a drained pipe of a dead rank: this pipe is done.
    r.split[which].Finish(on_line);
    fd.Reset();
    return;
  }
}

void WorkerLauncher::ReapLocked(Job& job, Rank& r, int wait_status,
                                std::vector<Event>& events) {
  // Everything the rank wrote before it died is in the pipes now: relay it
  // before its exit, so a result line always precedes the exit report.
  for (int which : {kStdout, kStderr, kMetrics}) {
    ReadPipeLocked(job, r, which, /*drain=*/true, events);
  }
  r.exited = true;
  r.exit_fd.Reset();
  --job.alive;
  proto::WorkerExit exit = ExitFromWaitStatus(r.rank, wait_status);
  const std::string what = rpc::ExitText(exit);
  // The first failure needs no explanation; the ranks stopped because of it
  // (or because someone asked) say why, so a report reads
  // "rank 0 on vm was killed by SIGKILL (stopped after rank 1 exited with
  // code 3)".
  if (job.stopping) exit.set_reason(job.stop_reason);
  // A rank that stopped on request with a checkpoint (exit 75) is no
  // failure: the others are stopping the same way.
  bool failed = rpc::IsFailure(exit) &&
                !contract::IsRequeue(exit.exit_code(), exit.signal());
  // A rank that failed by itself usually said why on stderr just before.
  if (failed && !job.stopping && !r.last_stderr.empty()) {
    std::string last;
    for (const std::string& l : r.last_stderr) {
      last += (last.empty() ? "" : " | ") + l;
    }
    exit.set_last_error(last);
  }
  if (options_.callbacks.on_exit) {
    events.push_back([this, id = job.id, a = job.attempt, exit] {
      options_.callbacks.on_exit(id, a, exit);
    });
  }
  if (failed && !job.stopping) {
    BeginStopLocked(
        job, options_.failure_grace_s,
        "stopped after rank " + std::to_string(r.rank) + " " + what);
  }
}

void WorkerLauncher::Loop() {
  struct Target {
    Job* job;
    Rank* rank;
    int which;
  };
  while (true) {
    std::vector<Event> events;
    std::vector<pollfd> pfds;
    std::vector<Target> targets;
    int timeout_ms = -1;
    bool poll_reaps = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!start_queue_.empty()) {
        for (StartRequest* req : start_queue_) HandleStartLocked(*req);
        start_queue_.clear();
        cv_.notify_all();
      }
      if (shutting_down_ && jobs_.empty()) break;
      auto now = Clock::now();
      for (auto& [id, job] : jobs_) {
        if (job->kill_at) {
          if (now >= *job->kill_at) {
            (void)spawner_->SignalGroup(job->pgid, SIGKILL);
            job->kill_at.reset();
          } else {
            auto ms = std::chrono::ceil<std::chrono::milliseconds>(
                          *job->kill_at - now)
                          .count();
            if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
          }
        }
        for (Rank& r : job->ranks) {
          if (r.exited) continue;
          for (int which : {kStdout, kStderr, kMetrics}) {
            if (!r.pipes[which].valid()) continue;
            pfds.push_back({r.pipes[which].get(), POLLIN, 0});
            targets.push_back({job.get(), &r, which});
          }
          if (r.exit_fd.valid()) {
            pfds.push_back({r.exit_fd.get(), POLLIN, 0});
            targets.push_back({job.get(), &r, kExit});
          } else {
            poll_reaps = true;
          }
        }
      }
    }
    if (poll_reaps && (timeout_ms < 0 || timeout_ms > kReapPollMs)) {
      timeout_ms = kReapPollMs;
    }
    pfds.push_back({wake_fd_.get(), POLLIN, 0});
    int n = poll(pfds.data(), pfds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) {
      perror("dstrain agent: poll");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pfds.back().revents != 0) {
        std::uint64_t v;
        ssize_t unused = read(wake_fd_.get(), &v, sizeof(v));
        (void)unused;
      }
      for (std::size_t i = 0; i + 1 < pfds.size(); ++i) {
        if (pfds[i].revents == 0 || targets[i].which == kExit) continue;
        ReadPipeLocked(*targets[i].job, *targets[i].rank, targets[i].which,
                       /*drain=*/false, events);
      }
      for (std::size_t i = 0; i + 1 < pfds.size(); ++i) {
        if (targets[i].which != kExit || pfds[i].revents == 0) continue;
        Rank& r = *targets[i].rank;
        if (auto st = spawner_->TryReap(r.pid)) {
          ReapLocked(*targets[i].job, r, *st, events);
        }
      }
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        Job& job = *it->second;
        if (poll_reaps) {
          for (Rank& r : job.ranks) {
            if (r.exited || r.exit_fd.valid()) continue;
            if (auto st = spawner_->TryReap(r.pid)) {
              ReapLocked(job, r, *st, events);
            }
          }
        }
        if (job.alive > 0) {
          ++it;
          continue;
        }
        if (options_.callbacks.on_job_done) {
          events.push_back([this, id = job.id, a = job.attempt] {
            options_.callbacks.on_job_done(id, a);
          });
        }
        for (auto& w : job.waiters) events.push_back(std::move(w));
        it = jobs_.erase(it);
      }
    }
    for (auto& e : events) e();
  }
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

}  // namespace dstrain::agent
