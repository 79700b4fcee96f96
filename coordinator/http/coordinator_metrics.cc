#include "coordinator/http/coordinator_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "coordinator/node_status.h"

namespace dstrain::coordinator::http {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The job states as /metrics names them, every one always present.
const std::vector<std::pair<proto::JobState, std::string>>& JobStates() {
  static const auto* states =
      new std::vector<std::pair<proto::JobState, std::string>>{
          {proto::JOB_PENDING, "pending"}, {proto::JOB_STARTING, "starting"},
          {proto::JOB_RUNNING, "running"}, {proto::JOB_SUCCEEDED, "succeeded"},
          {proto::JOB_FAILED, "failed"},   {proto::JOB_CANCELLED, "cancelled"}};
  return *states;
}

std::string StateName(proto::JobState state) {
  for (const auto& [s, name] : JobStates()) {
    if (s == state) return name;
  }
  return "unknown";
}

MetricFamily Family(std::string name, std::string help,
                    MetricType type = MetricType::kGauge) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

}  // namespace

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least q of them at or below.
  const double rank = std::ceil(q * static_cast<double>(values.size()));
  const std::size_t i = rank < 1 ? 0
                                 : std::min(values.size() - 1,
                                            static_cast<std::size_t>(rank) - 1);
  return values[i];
}

CoordinatorSnapshot TakeSnapshot(const JobManager& jobs,
                                 const NodeManager& nodes,
                                 double start_time_unix_s,
                                 const MetricsOptions& options) {
  CoordinatorSnapshot s;
  s.start_time_unix_s = start_time_unix_s;
  s.jobs = jobs.ListJobs();
  for (const proto::JobSummary& j : s.jobs) {
    const int since = std::max(0, j.step() - options.quantile_steps);
    StatusOr<proto::JobStatus> status = jobs.GetJobStatus(j.job_id(), since);
    s.statuses.push_back(status.ok() ? *std::move(status) : proto::JobStatus());
  }
  s.nodes = NodeStatuses(nodes, jobs);
  return s;
}

std::vector<MetricFamily> CoordinatorMetrics(const CoordinatorSnapshot& s,
                                             const MetricsOptions& options) {
  std::vector<MetricFamily> out;

  MetricFamily build = Family("dstrain_build_info",
                              "Always 1; the coordinator's dstrain version.");
  build.Add({{"version", s.version}}, 1);
  out.push_back(std::move(build));
  out.push_back(Family("dstrain_coordinator_start_time_seconds",
                       "When this coordinator process started, Unix time.")
                    .Add({}, s.start_time_unix_s));

  std::map<proto::JobState, int> by_state;
  for (const proto::JobSummary& j : s.jobs) ++by_state[j.state()];
  MetricFamily jobs = Family("dstrain_jobs", "Jobs known, by state.");
  for (const auto& [state, name] : JobStates()) {
    jobs.Add({{"state", name}}, by_state[state]);
  }
  out.push_back(std::move(jobs));
  out.push_back(
      Family("dstrain_queue_length", "Jobs waiting for nodes (state pending).")
          .Add({}, by_state[proto::JOB_PENDING]));

  std::map<std::string, int> node_states{
      {"alive", 0}, {"drained", 0}, {"awaiting", 0}, {"lost", 0}};
  int busy = 0;
  for (const proto::NodeStatus& n : s.nodes) {
    ++node_states[n.state()];
    if (!n.job_id().empty()) ++busy;
  }
  MetricFamily nodes = Family(
      "dstrain_nodes",
      "Registered nodes by state: alive, drained (alive, takes no new job), "
      "awaiting (known from before a coordinator restart) or lost.");
  for (const auto& [state, n] : node_states) nodes.Add({{"state", state}}, n);
  out.push_back(std::move(nodes));
  out.push_back(Family("dstrain_nodes_busy", "Nodes running a job's workers.")
                    .Add({}, busy));

  MetricFamily info =
      Family("dstrain_job_info",
             "Always 1 per job; its state as a label, to join on.");
  MetricFamily step = Family("dstrain_job_step", "Rank 0's latest step.");
  MetricFamily total = Family("dstrain_job_total_steps", "Steps the job runs.");
  MetricFamily loss = Family("dstrain_job_loss", "Rank 0's latest loss.");
  MetricFamily tokens =
      Family("dstrain_job_tokens_per_second",
             "Rank 0's latest throughput, tokens per second (whole job).");
  MetricFamily world = Family("dstrain_job_world_size", "Ranks of the job.");
  MetricFamily restarts =
      Family("dstrain_job_restarts_total",
             "Times the job restarted after a failure (attempts - 1).",
             MetricType::kCounter);
  MetricFamily startup = Family(
      "dstrain_job_startup_seconds",
      "The current attempt's seconds from all workers started to its first "
      "step: process start, rendezvous, model set-up and one step.");
  MetricFamily step_seconds = Family(
      "dstrain_job_step_seconds",
      "Rank 0's step time: quantiles over the recent steps, sum and count "
      "over every step this coordinator saw.",
      MetricType::kSummary);
  MetricFamily rank_step = Family("dstrain_rank_step", "A rank's latest step.");
  MetricFamily rank_seconds =
      Family("dstrain_rank_step_seconds", "A rank's latest step time.");
  MetricFamily rank_comm =
      Family("dstrain_rank_comm_seconds",
             "Seconds of a rank's latest step spent waiting in communication.");
  MetricFamily rank_tokens =
      Family("dstrain_rank_tokens_per_second", "A rank's latest throughput.");
  MetricFamily rank_scale = Family("dstrain_rank_loss_scale",
                                   "A rank's fp16 loss scale (1 off fp16).");
  MetricFamily rank_rss = Family("dstrain_rank_peak_rss_bytes",
                                 "A rank's peak resident memory so far.");

  for (std::size_t i = 0; i < s.jobs.size(); ++i) {
    const proto::JobSummary& j = s.jobs[i];
    const proto::JobStatus& st =
        i < s.statuses.size() ? s.statuses[i] : proto::JobStatus();
    const Labels id{{"job_id", j.job_id()}, {"name", j.name()}};
    Labels with_state = id;
    with_state.emplace_back("state", StateName(j.state()));
    info.Add(with_state, 1);
    step.Add(id, j.step());
    total.Add(id, j.total_steps());
    world.Add(id, j.world_size());
    restarts.Add(id, std::max(0, j.attempt()));
    if (j.step() > 0) {
      loss.Add(id, j.loss());
      tokens.Add(id, j.tokens_per_s());
    }
    if (st.startup_s() >= 0 && j.step() > 0) startup.Add(id, st.startup_s());
    if (st.steps_observed() > 0) {
      std::vector<double> recent;
      for (const proto::StepMetrics& m : st.history()) {
        recent.push_back(m.step_time_s());
      }
      for (double q : {0.5, 0.9, 0.99}) {
        Labels l = id;
        l.emplace_back("quantile", FormatSampleValue(q));
        step_seconds.Add(l, Quantile(recent, q));
      }
      step_seconds.Add(id, st.step_time_sum_s(), "_sum");
      step_seconds.Add(id, static_cast<double>(st.steps_observed()), "_count");
    }
    if (!options.per_rank) continue;
    std::map<int, std::string> host_of;
    for (const proto::RankAssignment& a : st.ranks())
      host_of[a.rank()] = a.host();
    for (const proto::StepMetrics& m : st.latest()) {
      const Labels r{{"job_id", j.job_id()},
                     {"rank", std::to_string(m.rank())},
                     {"host", host_of[m.rank()]}};
      rank_step.Add(r, m.step());
      rank_seconds.Add(r, m.step_time_s());
      rank_comm.Add(r, m.comm_time_s());
      rank_tokens.Add(r, m.tokens_per_s());
      rank_scale.Add(r, m.loss_scale());
      rank_rss.Add(r, static_cast<double>(m.peak_rss_bytes()));
    }
  }
  for (MetricFamily* f : {&info, &step, &total, &loss, &tokens, &world,
                          &restarts, &startup, &step_seconds}) {
    out.push_back(std::move(*f));
  }
  if (options.per_rank) {
    for (MetricFamily* f : {&rank_step, &rank_seconds, &rank_comm, &rank_tokens,
                            &rank_scale, &rank_rss}) {
      out.push_back(std::move(*f));
    }
  }
  return out;
}

}  // namespace dstrain::coordinator::http
