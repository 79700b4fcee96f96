#include "cli/commands/launch.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "agent/agent.h"
#include "agent/node_probe.h"
#include "agent/worker_env.h"
#include "cli/commands/logs.h"
#include "cli/console.h"
#include "cli/job_spec.h"
#include "cli/metrics_log.h"
#include "cli/preflight.h"
#include "cli/progress.h"
#include "cli/run_summary.h"
#include "cli/signal_watcher.h"
#include "cli/slurm/slurm_allocation.h"
#include "cli/slurm/slurm_step.h"
#include "cli/tensorboard_writer.h"
#include "common/config/job_config_loader.h"
#include "common/contract/checkpoint_dir.h"
#include "common/contract/exit_codes.h"
#include "common/loopback_port.h"
#include "common/rpc/auth.h"
#include "common/rpc/tls.h"
#include "common/rpc/token_file.h"
#include "coordinator/client/coordinator_client.h"
#include "coordinator/coordinator_server.h"
#include "worker/data/open_dataset.h"

namespace dstrain::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kPollEvery = std::chrono::milliseconds(150);
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDoesNotFit = 3;
constexpr int kExitInterrupted = 130;
// SIGTERM or SIGUSR1 (preemption, a time limit): how long the workers get
// to finish their step and write its checkpoint before they are killed.
constexpr double kPreemptGraceS = 120.0;
// How long the workers get between SIGTERM and SIGKILL when the job is
// cancelled or this process shuts its agent down.
constexpr double kStopGraceS = 3.0;
// A followed job whose coordinator stops answering for this long is given
// up on.
constexpr auto kCoordinatorSilenceLimit = std::chrono::seconds(30);
// In a Slurm allocation: how long the coordinator srun starts has to
// answer, and the agents to register.
constexpr auto kSlurmStepDeadline = std::chrono::seconds(120);

bool IsEnded(proto::JobState s) {
  return s == proto::JOB_SUCCEEDED || s == proto::JOB_FAILED ||
         s == proto::JOB_CANCELLED;
}

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void Error(const std::string& message) {
  std::fprintf(stderr, "dstrain launch: %s\n", message.c_str());
}

// Everything one launch owns, torn down in reverse: workers (through the
// agent) before the coordinator they report to.
class LaunchRun {
 public:
  explicit LaunchRun(const LaunchOptions& o) : o_(o) {}
  int Run();

 private:
  int Prepare();  // validation; returns 0 or an exit code
  // `dstrain plan`'s verdict on the nodes the job would get: 0, or the
  // exit code of a job that does not fit (unless --force). With a
  // coordinator it starts gRPC's threads: call it after the SignalWatcher.
  int CheckFits();
  Status StartEmbedded();
  // Inside a Slurm allocation (slurm_): the coordinator on this node and
  // an agent on every node of the allocation, each a job step started
  // with srun; returns once enough agents registered.
  Status StartInSlurm();
  // Waits until `done` or the step ends or the deadline passes; the
  // error names the step's log.
  Status AwaitSlurmStep(SlurmStep& step, const std::string& what,
                        const std::string& log,
                        const std::function<bool()>& done);
  // The allocation's topology (scontrol show topology) for a job that
  // names no cluster description; "" when Slurm knows none.
  std::string SlurmTopologyFile();
  // Puts the dstrain job's id into the Slurm job's comment (best effort).
  void CommentSlurmJob();
  void OnSignal(int sig, int count);
  int Follow();  // polls until the job ends; returns the exit code
  // With a standalone coordinator, the first Ctrl-C asks (on a terminal)
  // whether to cancel the job or detach from it; elsewhere, or for
  // SIGTERM, it detaches.
  bool WantsCancel(int sig);
  void TakeHistory(const proto::JobStatus& st);
  void NoteRestart(const proto::JobStatus& st);
  // With --coordinator: prints the workers' new output lines from every
  // node (dstrain logs' source), as the embedded agent prints its own.
  void RelayWorkerOutput();
  std::string ResumePointText() const;
  void ShowProgress();
  Status WriteTensorBoard(const proto::StepMetrics& m);
  void Teardown();
  int Finish(int code);

  const LaunchOptions o_;
  Clock::time_point started_ = Clock::now();
  config::JobConfig job_;
  std::string yaml_;
  std::string source_path_;  // absolute
  std::string run_dir_;
  std::string metrics_path_;
  std::string summary_path_;
  int shown_attempt_ = 0;  // the latest attempt announced
  std::string token_;
  std::string address_;
  std::string job_id_;
  std::unique_ptr<Console> console_;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<TensorBoardWriter> tensorboard_;  // from the first step
  bool metrics_error_shown_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  int signals_ = 0;      // guarded by mu_
  int last_signal_ = 0;  // guarded by mu_

  std::unique_ptr<coordinator::CoordinatorServer> server_;
  std::unique_ptr<agent::Agent> agent_;
  std::unique_ptr<coordinator::CoordinatorClient> client_;
  // Inside a Slurm allocation (slurm_allocation.h); its steps.
  std::optional<SlurmAllocation> slurm_;
  std::unique_ptr<SlurmStep> slurm_coordinator_;
  std::unique_ptr<SlurmStep> slurm_agents_;

  std::vector<proto::StepMetrics> history_;
  proto::JobStatus last_status_;
  int first_step_ = 0;
  double first_step_s_ = 0;
  PlainProgressPacer pacer_;
  bool cancelled_by_signal_ = false;
  bool detached_ = false;  // left a standalone coordinator's job running
  // Stops the embedded agent's workers after a preemption signal (they
  // checkpoint and exit contract::kExitRequeue); joined at teardown.
  std::thread preempt_;
  // RelayWorkerOutput's place in each rank's output, and the attempt.
  std::map<int, std::int64_t> log_cursors_;
  int log_attempt_ = -1;
  bool relay_output_ = true;  // false once the coordinator cannot serve it
};

int LaunchRun::Prepare() {
  auto job = config::LoadJobFile(o_.job_path, o_.overrides);
  if (!job.ok()) {
    std::fprintf(stderr, "%s\n", job.status().message().c_str());
    return kExitUsage;
  }
  job_ = std::move(*job);
  if (job_.backend == config::Backend::kMpi) {
    Error(
        "backend mpi needs an MPI launch: mpirun -np N dstrain worker --job " +
        o_.job_path);
    return kExitUsage;
  }
  if (o_.coordinator.empty()) {
    StatusOr<std::optional<SlurmAllocation>> alloc =
        ReadSlurmAllocation(contract::ProcessEnvironment());
    if (!alloc.ok()) {
      Error(alloc.status().message() +
            " (DSTRAIN_SLURM=0 runs on this node only)");
      return kExitUsage;
    }
    slurm_ = std::move(alloc).value();
  }
  if (slurm_.has_value()) {
    // More than the allocation holds is said before anything starts.
    const AllocationCheck check = CheckJobAgainstAllocation(job_, *slurm_);
    for (const std::string& w : check.warnings) {
      std::fprintf(stderr, "dstrain launch: %s\n", w.c_str());
    }
    if (!check.errors.empty()) {
      for (const std::string& e : check.errors) Error(e);
      return kExitUsage;
    }
  } else if (o_.coordinator.empty()) {
    Status s = CheckEmbeddable(job_);
    if (!s.ok()) {
      Error(s.message());
      return kExitUsage;
    }
  }
  std::ifstream in(o_.job_path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    Error("cannot read " + o_.job_path);
    return kExitUsage;
  }
  yaml_ = text.str();
  // Workers may run in another directory (or on another node).
  std::error_code abs_ec;
  source_path_ = fs::absolute(o_.job_path, abs_ec).lexically_normal().string();

  if (o_.coordinator.empty() && o_.detach) {
    Error(
        "--detach goes with --coordinator (an embedded coordinator ends "
        "with this process)");
    return kExitUsage;
  }
  if (o_.coordinator.empty() && o_.tls.any()) {
    Error(
        "--tls-cert, --tls-key and --tls-ca go with --coordinator (the "
        "embedded coordinator talks to its agent on loopback)");
    return kExitUsage;
  }
  if (o_.coordinator.empty()) {
    auto token = rpc::GenerateToken();
    if (!token.ok()) {
      Error(token.status().message());
      return kExitFailed;
    }
    token_ = *token;
  } else {
    auto token = rpc::ResolveClusterToken(o_.token_file, "--token-file");
    if (!token.ok()) {
      Error(token.status().message());
      return kExitUsage;
    }
    auto tls = rpc::LoadTls(o_.tls);
    if (!tls.ok()) {
      Error(tls.status().message());
      return kExitUsage;
    }
    if (tls->has_value()) rpc::UseTls(std::move(**tls));
    token_ = *token;
    address_ = o_.coordinator;
  }
  // The data, against the model, before anything starts: a missing or
  // truncated file, a wrong dtype, an id beyond the vocabulary.
  if (StatusOr<data::Dataset> d = data::OpenDataset(job_); !d.ok()) {
    Error(d.status().message());
    return kExitUsage;
  }
  // With a coordinator the check asks it for its nodes, over gRPC, whose
  // threads must not start before the signal mask (Run, below).
  if (o_.coordinator.empty()) {
    if (int rc = CheckFits(); rc != 0) return rc;
  }
  std::error_code ec;
  run_dir_ =
      ResolveRunDir(o_.run_dir, job_.name, fs::current_path(ec).string());
  metrics_path_ = (fs::path(run_dir_) / "metrics.jsonl").string();
  summary_path_ = (fs::path(run_dir_) / "summary.json").string();
  return 0;
}

int LaunchRun::CheckFits() {
  std::vector<proto::NodeInventory> nodes;
  int count = 1;
  if (!o_.coordinator.empty()) {
    // The registered nodes; the job may land on the smallest of them.
    coordinator::CoordinatorClient client(address_, token_);
    StatusOr<proto::ListNodesResponse> list = client.ListNodes();
    if (!list.ok()) return 0;  // submitting says what is wrong
    for (const proto::NodeStatus& n : list->nodes()) {
      if (n.state() == "alive" && n.has_inventory()) {
        nodes.push_back(n.inventory());
      }
    }
    count = job_.nodes.min;
  } else {
    // This node; in an allocation, its nodes are alike (--exclusive).
    agent::ProbeOptions probe;
    probe.probe_gpus = job_.device == config::Device::kCuda;
    nodes.push_back(agent::ProbeNode(probe));
    if (slurm_.has_value()) {
      count = static_cast<int>(slurm_->nodes.size());
    } else {
      // The ranks will run here: what this node cannot do is refused
      // before anything starts.
      const Preflight local = CheckJobOnNode(job_, nodes.front());
      for (const std::string& w : local.warnings) Error(w);
      if (!local.fatal.ok()) {
        Error(local.fatal.message());
        return kExitUsage;
      }
    }
  }
  std::optional<Preflight> worst;
  for (const proto::NodeInventory& node : nodes) {
    Preflight p = CheckJobFits(job_, node, count, o_.job_path);
    if (!worst.has_value() || (!p.fatal.ok() && worst->fatal.ok())) {
      worst = std::move(p);
    }
  }
  if (!worst.has_value()) return 0;
  for (const std::string& w : worst->warnings) Error(w);
  if (worst->fatal.ok()) return 0;
  if (o_.force) {
    Error("--force: launching although " + worst->fatal.message());
    return 0;
  }
  Error(worst->fatal.message());
  return kExitDoesNotFit;
}

void LaunchRun::OnSignal(int sig, int count) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    signals_ = count;
    last_signal_ = sig;
  }
  cv_.notify_all();
}

Status LaunchRun::StartEmbedded() {
  coordinator::CoordinatorOptions co;
  co.listen_address = "127.0.0.1:0";
  co.token = token_;
  // Its only node is this machine: cordoning it would strand the job.
  co.cordon_after_failures = 0;
  DSTRAIN_ASSIGN_OR_RETURN(auto server,
                           coordinator::CoordinatorServer::Start(co));
  server_ = std::move(server);
  address_ = server_->address();

  DSTRAIN_ASSIGN_OR_RETURN(auto exe, agent::CurrentExecutable());
  agent::AgentOptions ao;
  ao.coordinator_address = address_;
  ao.token = token_;
  ao.listen_address = "127.0.0.1:0";
  ao.worker_executable = exe;
  ao.stop_grace_s = kStopGraceS;
  Console* console = console_.get();
  ao.log_sink = [console](int, const std::string& line) { console->Log(line); };
  DSTRAIN_ASSIGN_OR_RETURN(auto agent, agent::Agent::Start(ao));
  agent_ = std::move(agent);
  return Status::Ok();
}

Status LaunchRun::StartInSlurm() {
  DSTRAIN_ASSIGN_OR_RETURN(auto exe, agent::CurrentExecutable());
  // The coordinator: a step of one task on the first node (where the
  // batch script usually runs, but not necessarily), on a port just found
  // free. Everyone, this process included, reaches it at that node's
  // address as Slurm knows it (NodeAddr), else by its name.
  const std::string first = slurm_->nodes.front();
  std::string host = first;
  StatusOr<std::string> shown = RunAndRead({"scontrol", "show", "node", first});
  if (shown.ok() && !NodeAddrFromScontrol(*shown).empty()) {
    host = NodeAddrFromScontrol(*shown);
  }
  const int port = FreeLoopbackPort();
  if (port == 0) return Unavailable("no free TCP port for the coordinator");
  const std::string coord_log =
      (fs::path(run_dir_) / "slurm-coordinator.log").string();
  slurm_coordinator_ = std::make_unique<SlurmStep>();
  DSTRAIN_RETURN_IF_ERROR(slurm_coordinator_->Start(
      {"--nodes=1", "--ntasks=1", "--nodelist=" + first,
       "--job-name=dstrain-coordinator"},
      {exe, "coordinator", "--listen", "0.0.0.0:" + std::to_string(port)},
      token_, coord_log));
  address_ = host + ":" + std::to_string(port);
  coordinator::CoordinatorClient client(address_, token_);
  DSTRAIN_RETURN_IF_ERROR(
      AwaitSlurmStep(*slurm_coordinator_, "the coordinator", coord_log,
                     [&] { return client.ListNodes().ok(); }));
  const std::string agents_log =
      (fs::path(run_dir_) / "slurm-agents.log").string();
  const int nodes = static_cast<int>(slurm_->nodes.size());
  const std::string n = std::to_string(nodes);
  slurm_agents_ = std::make_unique<SlurmStep>();
  DSTRAIN_RETURN_IF_ERROR(slurm_agents_->Start(
      {"--nodes=" + n, "--ntasks=" + n, "--ntasks-per-node=1",
       "--job-name=dstrain-agents"},
      {exe, "agent", "--coordinator", address_}, token_, agents_log));
  console_->Note("dstrain: Slurm job " + slurm_->job_id + ": coordinator on " +
                 host + ":" + std::to_string(port) +
                 " (step dstrain-coordinator), an agent on each of " + n +
                 " node" + (nodes == 1 ? "" : "s") + " (" + slurm_->nodelist +
                 ", step dstrain-agents); their output: " + coord_log + ", " +
                 agents_log);
  // The job is placed as soon as nodes.min nodes are free: wait for every
  // node it could use, so that it starts at the size it asked for.
  const int want = std::min(nodes, job_.nodes.max);
  int registered = 0;
  return AwaitSlurmStep(
      *slurm_agents_, std::to_string(want) + " agents", agents_log, [&] {
        StatusOr<proto::ListNodesResponse> listed = client.ListNodes();
        registered = 0;
        if (listed.ok()) {
          for (const proto::NodeStatus& n : listed->nodes()) {
            registered += n.state() == "alive";
          }
        }
        return registered >= want;
      });
}

Status LaunchRun::AwaitSlurmStep(SlurmStep& step, const std::string& what,
                                 const std::string& log,
                                 const std::function<bool()>& done) {
  const auto deadline = Clock::now() + kSlurmStepDeadline;
  while (Clock::now() < deadline) {
    int status = 0;
    if (!step.Running(&status)) {
      return Unavailable(
          "the srun of " + what + " ended before it was ready (" +
          (WIFEXITED(status)
               ? "exit code " + std::to_string(WEXITSTATUS(status))
               : std::string("killed")) +
          "); see " + log);
    }
    if (done()) return Status::Ok();
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, kPollEvery, [&] { return signals_ > 0; })) {
      return Status(StatusCode::kCancelled,
                    "interrupted while " + what + " started");
    }
  }
  return DeadlineExceeded(what + " not ready within " +
                          std::to_string(kSlurmStepDeadline.count()) +
                          " s; see " + log);
}

std::string LaunchRun::SlurmTopologyFile() {
  StatusOr<std::string> shown = RunAndRead({"scontrol", "show", "topology"});
  if (!shown.ok()) return "";
  const std::string conf = TopologyConfFromScontrol(*shown);
  if (conf.empty()) return "";
  const std::string path =
      (fs::path(run_dir_) / "slurm-topology.conf").string();
  std::ofstream out(path);
  out << "# scontrol show topology, Slurm job " << slurm_->job_id << "\n"
      << conf;
  if (!out) return "";
  return path;
}

void LaunchRun::CommentSlurmJob() {
  StatusOr<std::string> done =
      RunAndRead({"scontrol", "update", "JobId=" + slurm_->job_id,
                  "Comment=dstrain job " + job_id_});
  if (!done.ok()) {
    console_->Note("dstrain: could not record the job id in Slurm job " +
                   slurm_->job_id + "'s comment: " + done.status().message());
  }
}

// "resuming from step 30" (the newest complete checkpoint the workers will
// try first), or that there is none yet.
std::string LaunchRun::ResumePointText() const {
  const std::string dir = contract::ResolveCheckpointDir(job_, run_dir_);
  const std::vector<std::int64_t> steps = contract::ListCheckpoints(dir);
  if (steps.empty()) return "no checkpoint in " + dir + " yet: from step 0";
  return "resuming from step " + std::to_string(steps.front());
}

void LaunchRun::NoteRestart(const proto::JobStatus& st) {
  if (st.attempt() <= shown_attempt_) return;
  shown_attempt_ = st.attempt();
  console_->Note("dstrain: restarting (attempt " +
                 std::to_string(st.attempt() + 1) + " of " +
                 std::to_string(st.max_restarts() + 1) +
                 ") after: " + st.restart_reason() + "; " + ResumePointText());
}

void LaunchRun::TakeHistory(const proto::JobStatus& st) {
  int before = static_cast<int>(history_.size());
  for (const auto& m : st.history()) {
    // A restarted attempt repeats the steps after its checkpoint: they
    // are new lines (with their attempt), not repeats.
    const bool newer_attempt =
        !history_.empty() && m.attempt() > history_.back().attempt();
    int last = history_.empty() ? 0 : history_.back().step();
    if (!newer_attempt &&
        (m.step() <= last ||
         (!history_.empty() && m.attempt() < history_.back().attempt()))) {
      continue;
    }
    if (history_.empty()) {
      first_step_ = m.step();
      first_step_s_ = SecondsSince(started_);
    }
    history_.push_back(m);
    Status wrote = metrics_->Add(m.step(), StepMetricsJson(m));
    if (wrote.ok()) wrote = WriteTensorBoard(m);
    if (!wrote.ok() && !metrics_error_shown_) {
      metrics_error_shown_ = true;
      console_->Note("dstrain: " + wrote.message());
    }
  }
  if (static_cast<int>(history_.size()) != before) ShowProgress();
}

Status LaunchRun::WriteTensorBoard(const proto::StepMetrics& m) {
  std::string dir = o_.tensorboard_dir;
  if (dir.empty() && job_.tensorboard) {
    dir = (fs::path(run_dir_) / "tensorboard").string();
  }
  if (dir.empty()) return Status::Ok();
  // Made at the first step, like metrics.jsonl: a launch that trains
  // nothing leaves no empty event file.
  if (tensorboard_ == nullptr) {
    DSTRAIN_ASSIGN_OR_RETURN(tensorboard_, TensorBoardWriter::Open(dir));
  }
  const double wall = std::chrono::duration<double>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return tensorboard_->AddStep(m, wall);
}

void LaunchRun::ShowProgress() {
  if (o_.quiet || history_.empty()) return;
  const proto::StepMetrics& m = history_.back();
  double now = SecondsSince(started_);
  int total = m.total_steps() > 0 ? m.total_steps() : job_.train.steps;
  if (!console_->tty() && !pacer_.ShouldPrint(m.step(), total, now)) return;
  ProgressSnapshot p;
  p.step = m.step();
  p.total_steps = total;
  p.loss = m.loss();
  p.tokens_per_s = m.tokens_per_s();
  p.elapsed_s = now;
  // The workers' own clock (elapsed_s) gives the pace even when one poll
  // brings many steps at once; ours is the fallback.
  const proto::StepMetrics& first = history_.front();
  if (m.elapsed_s() > 0 && first.elapsed_s() > 0) {
    p.eta_s = EstimateEta(first.step(), first.elapsed_s(), m.step(),
                          m.elapsed_s(), total);
  } else {
    p.eta_s = EstimateEta(first_step_, first_step_s_, m.step(), now, total);
  }
  console_->Progress(FormatProgressLine(p));
}

bool LaunchRun::WantsCancel(int sig) {
  if (sig != SIGINT || isatty(STDIN_FILENO) != 1) return false;
  console_->EndProgress();
  std::fprintf(stderr,
               "dstrain: cancel job %s (%s), or detach and leave it running? "
               "[c]ancel / [d]etach (default detach): ",
               job_.name.c_str(), job_id_.c_str());
  std::fflush(stderr);
  // An answer within a minute; no answer detaches.
  pollfd in{STDIN_FILENO, POLLIN, 0};
  if (::poll(&in, 1, 60000) != 1) return false;
  char answer[64] = {};
  if (::read(STDIN_FILENO, answer, sizeof answer - 1) <= 0) return false;
  return answer[0] == 'c' || answer[0] == 'C';
}

void LaunchRun::RelayWorkerOutput() {
  if (agent_ != nullptr || !relay_output_) return;
  if (last_status_.attempt() != log_attempt_) {
    log_cursors_.clear();  // a new attempt: its output from the start
  }
  proto::GetLogsRequest request;
  request.set_job_id(job_id_);
  request.set_all_ranks(true);
  request.set_attempt(last_status_.attempt());
  for (const auto& [rank, next] : log_cursors_) {
    proto::LogCursor* c = request.add_after();
    c->set_rank(rank);
    c->set_next_line(next);
  }
  // Briefly: the progress line and the job's end must not wait on a node
  // that does not answer; its lines come at a later poll.
  StatusOr<proto::GetLogsResponse> got =
      client_->GetLogs(request, std::chrono::milliseconds(1500));
  if (!got.ok()) {
    // Not placed yet, or an agent away: try again at the next poll. A
    // coordinator that cannot serve output at all is not asked again.
    if (got.status().code() == StatusCode::kUnimplemented) {
      relay_output_ = false;
    }
    return;
  }
  log_attempt_ = last_status_.attempt();
  for (const proto::LogLine& line : got->lines()) {
    std::string text = FormatLogLine(line, /*json=*/false);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    console_->Log(text);
  }
  for (const proto::LogCursor& c : got->next()) {
    log_cursors_[c.rank()] = c.next_line();
  }
}

int LaunchRun::Follow() {
  bool cancel_sent = false;
  bool killed = false;
  std::string noted_pending;  // the pending reason last shown
  auto last_answer = Clock::now();
  while (true) {
    // After a restart the new attempt's steps start below the last one
    // seen: ask for the whole history until one of them arrived.
    const int since =
        history_.empty() || history_.back().attempt() != shown_attempt_
            ? 0
            : history_.back().step();
    auto st = client_->GetJobStatus(job_id_, since);
    if (st.ok()) {
      last_answer = Clock::now();
      NoteRestart(*st);
      // A new attempt seen through an incremental poll: its earlier steps
      // are not in this answer; the next poll asks for all of them.
      if (since == 0 || st->attempt() == history_.back().attempt()) {
        TakeHistory(*st);
      }
      last_status_ = std::move(*st);
      RelayWorkerOutput();
      if (IsEnded(last_status_.state())) {
        RelayWorkerOutput();  // the last lines, written before the end
        break;
      }
      // A job stays PENDING until enough nodes are free: say why (again
      // when the reason changes) rather than look hung.
      if (last_status_.state() == proto::JOB_PENDING &&
          last_status_.attempt() == 0 && SecondsSince(started_) > 3.0 &&
          last_status_.pending_reason() != noted_pending) {
        noted_pending = last_status_.pending_reason();
        console_->Note("dstrain: job " + job_.name + " is waiting (" +
                       address_ + "): " +
                       (noted_pending.empty() ? std::string("not placed yet")
                                              : noted_pending));
      }
    } else if (Clock::now() - last_answer > kCoordinatorSilenceLimit) {
      console_->EndProgress();
      Error("lost the coordinator: " + st.status().message());
      return kExitFailed;
    }

    int signals, sig;
    {
      std::unique_lock<std::mutex> lock(mu_);
      int seen = cancel_sent + killed;
      cv_.wait_for(lock, kPollEvery, [&] { return signals_ > seen; });
      signals = signals_;
      sig = last_signal_;
    }
    if (signals >= 1 && !cancel_sent && !o_.coordinator.empty() &&
        !WantsCancel(sig)) {
      // A standalone coordinator keeps the job: leave it running.
      console_->EndProgress();
      console_->Note("dstrain: detached from job " + job_.name + " (" +
                     job_id_ + "); it keeps running on " + address_);
      detached_ = true;
      return kExitInterrupted;
    }
    if (signals >= 1 && !cancel_sent && (agent_ || slurm_agents_) &&
        (sig == SIGTERM || sig == SIGUSR1)) {
      // Preemption or a time limit (Slurm's --signal): the workers finish
      // their step, write its checkpoint and exit 75; the job ends
      // preempted and this launch exits 75 (requeue).
      cancel_sent = true;
      const std::string name = sig == SIGTERM ? "SIGTERM" : "SIGUSR1";
      console_->Note("dstrain: " + name +
                     ": the workers checkpoint after their current step and "
                     "stop (again to kill them at once)");
      if (agent_) {
        agent::Agent* agent = agent_.get();
        preempt_ = std::thread([agent, name] {
          agent->StopAllWorkers(kPreemptGraceS, "preempted by " + name);
        });
      } else {
        // Every node of the allocation, through the coordinator.
        StatusOr<proto::CancelJobResponse> r = client_->PreemptJob(
            job_id_, kPreemptGraceS, "preempted by " + name);
        if (!r.ok()) {
          console_->Note("dstrain: preemption failed: " + r.status().message());
        }
      }
    }
    if (signals >= 1 && !cancel_sent) {
      cancel_sent = true;
      cancelled_by_signal_ = true;
      std::string name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
      console_->Note(
          "dstrain: " + name +
          ": cancelling the job (again to kill the workers at once)");
      Status s = client_->CancelJob(job_id_, "interrupted by " + name);
      if (!s.ok()) console_->Note("dstrain: cancel failed: " + s.message());
    }
    if (signals >= 2 && !killed) {
      killed = true;
      if (agent_) {
        agent_->StopAllWorkers(0, "interrupted twice");
      } else if (slurm_agents_) {
        (void)client_->CancelJob(job_id_, "interrupted twice");
      }
      // One last look for the final state; no more waiting.
      auto final_st = client_->GetJobStatus(job_id_, 0);
      if (final_st.ok()) last_status_ = std::move(*final_st);
      break;
    }
  }
  console_->EndProgress();
  if (cancelled_by_signal_) return kExitInterrupted;
  if (last_status_.state() == proto::JOB_SUCCEEDED) return 0;
  // Stopped on request with a checkpoint: run again with --resume.
  if (last_status_.state() == proto::JOB_CANCELLED) {
    for (const proto::WorkerExit& e : last_status_.exits()) {
      if (contract::IsRequeue(e.exit_code(), e.signal())) {
        return contract::kExitRequeue;
      }
    }
  }
  return kExitFailed;
}

void LaunchRun::Teardown() {
  if (preempt_.joinable()) preempt_.join();
  if (agent_) {
    // Normally every worker has exited already (the job ended on their
    // exits); Shutdown stops any straggler and reaps everything.
    agent_->Shutdown();
    agent_.reset();
  }
  client_.reset();
  if (slurm_agents_) {
    // Their workers are gone with the job; the agents stop at once.
    slurm_agents_->Stop(kStopGraceS + 7);
    slurm_agents_.reset();
  }
  if (slurm_coordinator_) {
    slurm_coordinator_->Stop(kStopGraceS + 7);
    slurm_coordinator_.reset();
  }
  if (server_) {
    server_->Shutdown();
    server_.reset();
  }
}

int LaunchRun::Finish(int code) {
  RunSummary s =
      BuildSummary(job_.name, last_status_, history_, SecondsSince(started_));
  s.run_dir = run_dir_;
  s.metrics_path = metrics_path_;
  s.summary_path = summary_path_;
  if (s.total_steps == 0) s.total_steps = job_.train.steps;
  std::string json = SummaryJson(s);
  // A launch that trained no step does not replace an earlier run's record.
  std::error_code ec;
  if (metrics_->wrote_any() || !fs::exists(summary_path_, ec)) {
    std::ofstream(summary_path_) << json << "\n";
  } else {
    console_->Note("dstrain: no step trained; " + summary_path_ +
                   " still describes the previous run");
  }
  if (!o_.quiet || !o_.json) console_->Print(SummaryText(s));
  if (o_.json) std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  if (code == kExitFailed && !s.reason.empty()) {
    std::fprintf(stderr, "job %s failed: %s\n", job_.name.c_str(),
                 s.reason.c_str());
  } else if (code == kExitInterrupted) {
    std::fprintf(stderr, "job %s cancelled: %s\n", job_.name.c_str(),
                 s.reason.empty() ? "interrupted" : s.reason.c_str());
  }
  return code;
}

int LaunchRun::Run() {
  if (int rc = Prepare(); rc != 0) return rc;
  if (o_.resume) {
    // Resuming a job that already trained every step would start workers
    // that do nothing and then report an empty run over the real one.
    const std::string dir = contract::ResolveCheckpointDir(job_, run_dir_);
    const std::vector<std::int64_t> steps = contract::ListCheckpoints(dir);
    if (!steps.empty() && steps.front() >= job_.train.steps) {
      std::printf(
          "dstrain: job %s already finished: its newest checkpoint (%s) is "
          "step %lld of %d; nothing to do (raise train.steps to train on)\n",
          job_.name.c_str(), dir.c_str(), static_cast<long long>(steps.front()),
          job_.train.steps);
      return 0;
    }
  }

  // Before any thread exists, so all of them inherit the blocked signals.
  SignalWatcher watcher([this](int sig, int n) { OnSignal(sig, n); });
  std::FILE* human = o_.json ? stderr : stdout;
  console_ =
      std::make_unique<Console>(human, isatty(fileno(human)) == 1, !o_.quiet);

  if (!o_.coordinator.empty()) {
    if (int rc = CheckFits(); rc != 0) return rc;
  }

  std::error_code dir_ec;
  fs::create_directories(run_dir_, dir_ec);
  if (slurm_.has_value()) {
    Status s = dir_ec ? Internal("cannot create run directory " + run_dir_ +
                                 ": " + dir_ec.message())
                      : StartInSlurm();
    if (!s.ok()) {
      Error(s.message());
      Teardown();
      return s.code() == StatusCode::kCancelled ? kExitInterrupted
                                                : kExitFailed;
    }
  } else if (o_.coordinator.empty()) {
    Status s = StartEmbedded();
    if (!s.ok()) {
      Error(s.message());
      Teardown();
      return kExitFailed;
    }
  }
  std::error_code ec;
  fs::create_directories(run_dir_, ec);
  if (ec) {
    Error("cannot create run directory " + run_dir_ + ": " + ec.message());
    Teardown();
    return kExitFailed;
  }
  // Untouched until the first step: a launch that fails before training
  // keeps the previous run's metrics.
  metrics_ = std::make_unique<MetricsLog>(metrics_path_);

  client_ = std::make_unique<coordinator::CoordinatorClient>(address_, token_);
  proto::JobSpec spec =
      MakeJobSpec(job_, yaml_, source_path_, o_.overrides, run_dir_);
  spec.set_resume(o_.resume);
  spec.set_max_restarts(job_.fault_tolerance.max_restarts);
  spec.set_hang_timeout_s(job_.fault_tolerance.hang_timeout_s);
  spec.set_straggler_factor(job_.fault_tolerance.straggler_factor);
  spec.set_straggler_window_steps(job_.fault_tolerance.straggler_window_steps);
  if (slurm_.has_value()) {
    spec.set_slurm_job_id(slurm_->job_id);
    // The switches Slurm knows, for a job that names no fabric.
    if (job_.topology.cluster.empty()) {
      const std::string topo = SlurmTopologyFile();
      if (!topo.empty()) {
        spec.mutable_topology()->set_cluster_path(topo);
        console_->Note("dstrain: placing ranks on the fabric Slurm knows (" +
                       topo + ")");
      }
    }
  }
  auto id = client_->LaunchJob(spec);
  if (!id.ok()) {
    const StatusCode code = id.status().code();
    const bool unreachable = code == StatusCode::kDeadlineExceeded ||
                             code == StatusCode::kUnavailable;
    Error(id.status().message() +
          (unreachable && !o_.coordinator.empty()
               ? "; no answer from the coordinator at " + address_ +
                     ": is it running and reachable, and if it uses TLS, "
                     "are --tls-cert, --tls-key and --tls-ca given (with a "
                     "certificate its CA signed)?"
               : ""));
    Teardown();
    return kExitFailed;
  }
  job_id_ = *id;
  if (slurm_.has_value()) CommentSlurmJob();
  if (o_.detach) {
    // Submitted: the job's id for scripts, and nothing else on stdout.
    std::printf("%s\n", job_id_.c_str());
    std::fflush(stdout);
    Teardown();
    return 0;
  }
  if (!o_.quiet) {
    console_->Note("dstrain: job " + job_.name + " (" + job_id_ +
                   "): " + std::to_string(job_.procs_per_node) +
                   " ranks per node, " + std::to_string(job_.train.steps) +
                   " steps; run dir " + run_dir_);
    if (o_.resume) console_->Note("dstrain: " + ResumePointText());
  }
  int code = Follow();
  Teardown();
  if (detached_) return code;
  return Finish(code);
}

}  // namespace

int RunLaunch(const LaunchOptions& options) {
  LaunchRun run(options);
  return run.Run();
}

}  // namespace dstrain::cli
