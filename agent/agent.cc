#include "agent/agent.h"

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <unistd.h>

#include <random>

#include "agent/agent_service.h"
#include "agent/doctor/doctor.h"
#include "agent/job_files.h"
#include "agent/metrics_reporter.h"
#include "agent/node_probe.h"
#include "agent/progress_watch.h"
#include "agent/rendezvous_relay.h"
#include "agent/rendezvous_relay_service.h"
#include "agent/retry_delay.h"
#include "agent/worker_env.h"
#include "agent/worker_launcher.h"
#include "agent/worker_logs.h"
#include "common/cpu_affinity.h"
#include "common/log.h"
#include "common/rpc/channel.h"
#include "common/rpc/listen.h"
#include "coordinator/client/coordinator_client.h"

namespace dstrain::agent {

// Reports go to the coordinator through the blocking client.
class ClientReportSink : public ReportSink {
 public:
  explicit ClientReportSink(coordinator::CoordinatorClient* client)
      : client_(client) {}
  Status ReportMetrics(const proto::ReportMetricsRequest& request,
                       std::chrono::milliseconds timeout) override {
    return client_->ReportMetrics(request, timeout);
  }
  Status ReportWorkerExit(const std::string& node_id, const std::string& job_id,
                          int attempt, const proto::WorkerExit& exit,
                          std::chrono::milliseconds timeout) override {
    return client_->ReportWorkerExit(node_id, job_id, attempt, exit, timeout);
  }

 private:
  coordinator::CoordinatorClient* const client_;
};

// What the Agent service forwards to.
class Agent::Control : public WorkerControl {
 public:
  explicit Control(Agent* agent) : agent_(agent) {}

  StatusOr<proto::ReadLogsResponse> ReadLogs(
      const proto::ReadLogsRequest& request) override {
    return agent_->logs_->Read(request);
  }

  StatusOr<std::vector<int>> StartWorkers(
      const proto::StartWorkersRequest& request) override {
    // Held across the start so Shutdown cannot slip between the check and
    // the spawn and miss the new job.
    std::lock_guard<std::mutex> lock(start_mu_);
    {
      std::lock_guard<std::mutex> l(agent_->mu_);
      if (agent_->closing_) return Unavailable("the agent is shutting down");
    }
    WorkerEnvContext ctx{agent_->options_.worker_executable,
                         agent_->options_.token, CurrentEnvironment(),
                         agent_->inventory_, ThisProcessCpus()};
    ctx.tls_cert = agent_->options_.tls_cert;
    ctx.tls_key = agent_->options_.tls_key;
    ctx.tls_ca = agent_->options_.tls_ca;
    if (agent_->relay_ != nullptr) ctx.rendezvous_address = agent_->address_;
    // The job as the coordinator sent it, on this node's disk: the
    // submitter's path need not exist here.
    if (!request.spec().yaml().empty()) {
      DSTRAIN_ASSIGN_OR_RETURN(
          ctx.job_file,
          agent_->job_files_->Write(request.job_id(), request.attempt(),
                                    request.spec().yaml()));
    }
    std::vector<int> ranks;
    for (const proto::RankAssignment& a : request.ranks()) {
      ranks.push_back(a.rank());
    }
    StatusOr<std::string> progress_dir =
        agent_->progress_->Prepare(request.job_id(), request.attempt(), ranks);
    if (!progress_dir.ok()) {
      agent_->job_files_->Remove(request.job_id(), request.attempt());
      return progress_dir.status();
    }
    ctx.progress_dir = *progress_dir;
    StatusOr<JobLaunch> launch = BuildJobLaunch(request, ctx);
    StatusOr<std::vector<pid_t>> pids =
        launch.ok() ? agent_->launcher_->Start(*launch)
                    : StatusOr<std::vector<pid_t>>(launch.status());
    if (!pids.ok()) {
      agent_->job_files_->Remove(request.job_id(), request.attempt());
      agent_->progress_->Remove(request.job_id(), request.attempt());
      return pids.status();
    }
    std::vector<std::pair<int, pid_t>> started;
    for (std::size_t i = 0; i < pids->size() && i < launch->ranks.size(); ++i) {
      started.emplace_back(launch->ranks[i].rank, (*pids)[i]);
    }
    agent_->progress_->Attach(request.job_id(), request.attempt(), started);
    log::Debug("agent: started " + std::to_string(pids->size()) +
               " workers of job " + request.job_id());
    return std::vector<int>(pids->begin(), pids->end());
  }

  void StopWorkers(const proto::StopWorkersRequest& request,
                   std::function<void(int)> done) override {
    agent_->launcher_->Stop(request.job_id(), request.grace_s(),
                            request.reason(), std::move(done));
  }

  // Taken by Shutdown after closing_ is set: no start is in flight after.
  void WaitForStarts() { std::lock_guard<std::mutex> lock(start_mu_); }

 private:
  Agent* const agent_;
  std::mutex start_mu_;
};

namespace {

// "host:port" -> host; brackets of IPv6 literals kept.
std::string HostOf(const std::string& address) {
  auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

bool IsWildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::";
}

}  // namespace

Agent::Agent(const AgentOptions& options) : options_(options) {}

StatusOr<std::unique_ptr<Agent>> Agent::Start(const AgentOptions& options) {
  if (options.coordinator_address.empty()) {
    return InvalidArgument("agent: coordinator address is empty");
  }
  if (options.token.empty()) return InvalidArgument("agent: token is empty");
  if (options.worker_executable.empty() ||
      options.worker_executable[0] != '/') {
    return InvalidArgument("agent: worker executable `" +
                           options.worker_executable +
                           "` is not an absolute path");
  }
  if (access(options.worker_executable.c_str(), X_OK) != 0) {
    return InvalidArgument("agent: worker executable `" +
                           options.worker_executable + "` is not executable");
  }

  std::unique_ptr<Agent> a(new Agent(options));
  ProbeOptions probe;
  probe.hostname = options.hostname;
  a->inventory_ = ProbeNode(probe);
  if (options.doctor) {
    DoctorOptions d;
    d.read_test = false;
    d.data_path = options.log_dir.empty() ? "." : options.log_dir;
    d.versions = options.doctor_versions;
    d.inventory = a->inventory_;
    *a->inventory_.mutable_doctor() = RunDoctor(d);
  }

  coordinator::CoordinatorClientOptions copts;
  copts.rpc_timeout = options.rpc_timeout;
  a->client_ = std::make_unique<coordinator::CoordinatorClient>(
      options.coordinator_address, options.token, copts);
  a->sink_ = std::make_unique<ClientReportSink>(a->client_.get());
  MetricsReporterOptions ropts;
  ropts.flush_interval = options.metrics_flush_interval;
  ropts.on_warning = [](const std::string& w) { log::Warn("agent: " + w); };
  Agent* raw = a.get();
  a->reporter_ = std::make_unique<MetricsReporter>(
      a->sink_.get(), [raw] { return raw->node_id(); }, ropts);

  LauncherOptions lopts;
  lopts.hostname = a->inventory_.hostname();
  lopts.failure_grace_s = options.failure_grace_s;
  MetricsReporter* reporter = a->reporter_.get();
  lopts.callbacks.on_log = options.log_sink;
  lopts.callbacks.on_step = [reporter](const std::string&, int,
                                       const proto::StepMetrics& m) {
    reporter->AddStep(m);
  };
  lopts.callbacks.on_result = [reporter](const std::string& job, int attempt,
                                         const proto::RankResult& r) {
    reporter->AddResult(job, attempt, r);
  };
  lopts.callbacks.on_exit = [reporter](const std::string& job, int attempt,
                                       const proto::WorkerExit& e) {
    reporter->AddExit(job, attempt, e);
  };
  DSTRAIN_ASSIGN_OR_RETURN(a->job_files_, JobFiles::Create());
  JobFiles* job_files = a->job_files_.get();
  DSTRAIN_ASSIGN_OR_RETURN(a->progress_, ProgressWatch::Create());
  ProgressWatch* progress = a->progress_.get();
  WorkerLogsOptions log_options;
  log_options.max_file_bytes = options.log_max_file_bytes;
  log_options.max_total_bytes = options.log_max_total_bytes;
  if (options.log_dir.empty()) {
    log_options.dir = job_files->dir() + "/logs";
    log_options.remove_at_close = true;
  } else {
    log_options.dir =
        options.log_dir + "/dstrain-logs-" + a->inventory_.hostname();
  }
  DSTRAIN_ASSIGN_OR_RETURN(a->logs_, WorkerLogs::Open(log_options));
  WorkerLogs* logs = a->logs_.get();
  lopts.callbacks.on_output = [logs](const std::string& job, int attempt,
                                     int rank, bool from_stderr,
                                     const std::string& text) {
    logs->Append(job, attempt, rank, from_stderr, text,
                 std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count());
  };
  lopts.callbacks.on_job_done = [job_files, progress](const std::string& job,
                                                      int attempt) {
    job_files->Remove(job, attempt);
    progress->Remove(job, attempt);
  };
  a->launcher_ = std::make_unique<WorkerLauncher>(std::move(lopts));

  a->control_ = std::make_unique<Control>(raw);
  a->service_ =
      std::make_unique<AgentService>(options.token, a->control_.get());
  // The address this machine uses toward the coordinator is one the
  // coordinator can reach it at (unlike, say, the first interface's).
  StatusOr<std::string> toward =
      rpc::LocalAddressToward(options.coordinator_address);
  std::string listen = options.listen_address;
  if (listen.empty()) {
    if (!toward.ok()) {
      return Status(toward.status().code(),
                    "agent: cannot choose an address to listen on: " +
                        toward.status().message() + "; give one with --listen");
    }
    listen = *toward + ":0";
  }
  grpc::ServerBuilder builder;
  builder.RegisterService(a->service_.get());
  if (options.relay_rendezvous) {
    a->relay_ = std::make_unique<RendezvousRelay>(
        rpc::MakeChannel(options.coordinator_address));
    a->relay_service_ =
        std::make_unique<RendezvousRelayService>(a->relay_.get());
    builder.RegisterService(a->relay_service_.get());
  }
  DSTRAIN_ASSIGN_OR_RETURN(rpc::StartedServer started,
                           rpc::StartServer(&builder, listen, "agent"));
  a->server_ = std::move(started.server);
  const int port = started.port;
  std::string host = HostOf(listen);
  if (IsWildcard(host)) {
    // Listening everywhere: announce the address on the coordinator's route.
    if (toward.ok()) {
      host = *toward;
    } else {
      host = a->inventory_.addresses_size() > 0 ? a->inventory_.addresses(0)
                                                : "127.0.0.1";
      if (host.find(':') != std::string::npos) host = "[" + host + "]";
    }
  }
  a->address_ = host + ":" + std::to_string(port);

  DSTRAIN_RETURN_IF_ERROR(a->Register());
  a->heartbeat_thread_ = std::thread([raw] { raw->HeartbeatLoop(); });
  return a;
}

std::vector<proto::RunningJob> Agent::OwnedWork() const {
  std::vector<proto::RunningJob> running = launcher_->RunningJobs();
  // A rank whose exit is still on its way is the agent's as well: the
  // coordinator hears of it from the reporter soon.
  for (const MetricsReporter::PendingExit& e : reporter_->UndeliveredExits()) {
    proto::RunningJob* job = nullptr;
    for (proto::RunningJob& r : running) {
      if (r.job_id() == e.job_id && r.attempt() == e.attempt) job = &r;
    }
    if (job == nullptr) {
      job = &running.emplace_back();
      job->set_job_id(e.job_id);
      job->set_attempt(e.attempt);
    }
    job->add_ranks(e.rank);
  }
  for (proto::RunningJob& r : running) {
    std::sort(r.mutable_ranks()->begin(), r.mutable_ranks()->end());
  }
  return running;
}

Status Agent::Register() {
  std::string previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = node_id_;
  }
  const std::vector<proto::RunningJob> running = OwnedWork();
  DSTRAIN_ASSIGN_OR_RETURN(
      auto resp,
      client_->RegisterNode(inventory_, address_, previous, running));
  {
    std::lock_guard<std::mutex> lock(mu_);
    node_id_ = resp.node_id();
    if (resp.heartbeat_s() > 0) heartbeat_s_ = resp.heartbeat_s();
  }
  if (!previous.empty()) {
    int ranks = 0;
    for (const proto::RunningJob& r : running) ranks += r.ranks_size();
    log::Info("agent: registered again as " + resp.node_id() +
              (resp.node_id() == previous ? " (the same id)"
                                          : " (was " + previous + ")") +
              " with " + std::to_string(ranks) + " workers of " +
              std::to_string(running.size()) + " jobs");
  } else {
    log::Debug("agent: registered " + inventory_.hostname() + " as " +
               resp.node_id() + " at " + address_);
  }
  // Work the coordinator no longer runs (it ended or was failed over while
  // this agent was away) is stopped, not left to run unsupervised.
  for (const std::string& job_id : resp.stop_jobs()) {
    log::Warn("agent: the coordinator no longer runs job " + job_id +
              "; stopping its workers here");
    launcher_->Stop(job_id, options_.failure_grace_s,
                    "the coordinator no longer runs this job", [](int) {});
  }
  return Status::Ok();
}

void Agent::HeartbeatLoop() {
  bool failing = false;
  int failures = 0;  // calls in a row that got no answer (or no node)
  // Seeded per agent so that agents back off at different moments.
  std::mt19937_64 rng(std::random_device{}());
  std::unique_lock<std::mutex> lock(mu_);
  while (!closing_) {
    auto every = std::chrono::duration<double>(heartbeat_s_);
    const RetryDelayOptions backoff{
        std::chrono::duration_cast<std::chrono::milliseconds>(every),
        std::chrono::milliseconds(15000)};
    const std::chrono::milliseconds wait =
        NextRetryDelay(backoff, failures, rng);
    if (cv_.wait_for(lock, wait, [&] { return closing_; })) break;
    std::string id = node_id_;
    lock.unlock();
    // A heartbeat is stale after one interval; the bound also keeps
    // Shutdown, which joins this thread, from waiting out a long deadline
    // on a coordinator that is gone.
    StatusOr<bool> known = client_->Heartbeat(
        id, launcher_->RunningRanks(),
        std::chrono::duration_cast<std::chrono::milliseconds>(every) +
            std::chrono::milliseconds(500),
        progress_->Snapshot());
    if (!known.ok()) {
      if (!failing)
        log::Warn("agent: heartbeat failed: " + known.status().message() +
                  "; retrying with backoff");
      failing = true;
      ++failures;
    } else {
      failures = 0;
      if (failing) log::Info("agent: heartbeats reach the coordinator again");
      failing = false;
      if (!*known) {
        log::Warn("agent: the coordinator forgot node " + id +
                  "; registering again");
        Status s = Register();
        if (!s.ok()) {
          log::Warn("agent: registering again failed: " + s.message());
          ++failures;
        }
      }
    }
    lock.lock();
  }
}

Agent::~Agent() { Shutdown(); }

std::string Agent::node_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return node_id_;
}

void Agent::StopAllWorkers(double grace_s, const std::string& reason) {
  if (launcher_) launcher_->StopAll(grace_s, reason);
}

std::vector<int> Agent::RunningRanks() const {
  return launcher_ ? launcher_->RunningRanks() : std::vector<int>{};
}

pid_t Agent::WorkerProcessGroup(const std::string& job_id) const {
  return launcher_ ? launcher_->ProcessGroup(job_id) : -1;
}

void Agent::Shutdown() {
  std::lock_guard<std::mutex> serial(shutdown_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shut_down_) return;
    closing_ = true;
  }
  cv_.notify_all();
  if (control_) control_->WaitForStarts();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  // Workers first: their exits (and StopWorkers replies) go out while the
  // reporter and the server still run.
  if (launcher_) {
    launcher_->StopAll(options_.stop_grace_s, "the agent is shutting down");
  }
  if (reporter_) reporter_->Stop();
  if (server_) server_->Shutdown(rpc::DeadlineAfter(std::chrono::seconds(1)));
  if (relay_) relay_->Shutdown();
  std::lock_guard<std::mutex> lock(mu_);
  shut_down_ = true;
}

}  // namespace dstrain::agent
