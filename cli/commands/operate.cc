#include "cli/commands/operate.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "agent/doctor/doctor.h"
#include "cli/commands/coordinator_connection.h"
#include "common/json_writer.h"
#include "common/rpc/auth.h"
#include "common/rpc/token_file.h"
#include "common/text_table.h"
#include "common/units.h"
#include "coordinator/client/coordinator_client.h"

namespace dstrain::cli {
namespace {

double NowUnixSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// The REASON column: the drain's reason, or the cordon's with its time
// left ("cordoned 9m more: 2 failures in 60 min, the latest: ...").
std::string NodeReason(const proto::NodeStatus& n, double now_unix_s) {
  if (n.state() != "cordoned") return n.drain_reason();
  return "cordoned " +
         FormatAge(n.cordoned_until_unix_us() / 1e6 - now_unix_s) +
         " more: " + n.cordon_reason();
}

}  // namespace

std::string FormatAge(double seconds) {
  const long s = seconds < 0 ? 0 : static_cast<long>(seconds);
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm", s / 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldd%02ldh", s / 86400, (s % 86400) / 3600);
  }
  return buf;
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  if (rows.empty()) return "";
  Table t(rows.front());
  for (std::size_t i = 1; i < rows.size(); ++i) t.Add(rows[i]);
  return t.Render("");
}

int RunJobsCommand(const OperateOptions& o) {
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("jobs", client.status());
  StatusOr<proto::ListJobsResponse> jobs = (*client)->ListJobs();
  if (!jobs.ok()) return OperateFail("jobs", jobs.status());
  const double now = NowUnixSeconds();
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Key("jobs").BeginArray();
    for (const proto::JobSummary& j : jobs->jobs()) {
      w.BeginObject()
          .Key("job_id")
          .String(j.job_id())
          .Key("name")
          .String(j.name())
          .Key("state")
          .String(JobStateName(j.state()))
          .Key("nodes")
          .Int(j.nodes())
          .Key("world_size")
          .Int(j.world_size())
          .Key("attempt")
          .Int(j.attempt())
          .Key("priority")
          .Int(j.priority())
          .Key("step")
          .Int(j.step())
          .Key("total_steps")
          .Int(j.total_steps())
          .Key("loss")
          .Number(j.step() > 0 ? j.loss()
                               : std::numeric_limits<double>::quiet_NaN())
          .Key("tokens_per_s")
          .Number(j.tokens_per_s())
          .Key("submitted_unix_s")
          .Number(j.submitted_unix_us() / 1e6)
          .Key("age_s")
          .Number(now - j.submitted_unix_us() / 1e6)
          .Key("pending_reason")
          .String(j.pending_reason())
          .Key("reason")
          .String(j.reason())
          .EndObject();
    }
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
    return kOperateOk;
  }
  std::vector<std::vector<std::string>> rows = {{"JOB", "NAME", "STATE",
                                                 "NODES", "STEP", "LOSS",
                                                 "TOKENS/S", "AGE", "REASON"}};
  for (const proto::JobSummary& j : jobs->jobs()) {
    const std::string why =
        j.state() == proto::JOB_PENDING ? j.pending_reason() : j.reason();
    rows.push_back({j.job_id(), j.name(), JobStateName(j.state()),
                    std::to_string(j.nodes()),
                    j.step() > 0 ? std::to_string(j.step()) + "/" +
                                       std::to_string(j.total_steps())
                                 : "-",
                    j.step() > 0 ? Fixed(j.loss(), 4) : "-",
                    j.step() > 0 ? Fixed(j.tokens_per_s(), 0) : "-",
                    FormatAge(now - j.submitted_unix_us() / 1e6), why});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
  return kOperateOk;
}

namespace {

// `dstrain nodes --doctor`.
int PrintDoctorReports(const proto::ListNodesResponse& nodes, bool json) {
  std::map<std::string, int> verdicts;
  std::string out = json ? "{\"nodes\":[" : "";
  bool first = true;
  for (const proto::NodeStatus& n : nodes.nodes()) {
    const proto::DoctorReport& r = n.inventory().doctor();
    const bool has = !r.verdict().empty();
    ++verdicts[has ? r.verdict() : "no report"];
    if (json) {
      if (!first) out += ",";
      first = false;
      if (has) {
        std::string one = agent::DoctorJson(n.hostname(), r);
        while (!one.empty() && one.back() == '\n') one.pop_back();
        out += one;
      } else {
        out +=
            "{\"hostname\":" + JsonQuote(n.hostname()) + ",\"verdict\":null}";
      }
      continue;
    }
    out += has ? agent::DoctorText(n.hostname() + " (" + n.node_id() + ")", r)
               : "dstrain doctor: " + n.hostname() + " (" + n.node_id() +
                     "): no report (its agent runs embedded in `dstrain "
                     "launch`, or predates the checks)\n";
    out += "\n";
  }
  if (json) {
    out += "]}\n";
  } else {
    out += std::to_string(nodes.nodes_size()) + " node" +
           (nodes.nodes_size() == 1 ? "" : "s") + ":";
    for (const auto& [verdict, count] : verdicts) {
      out += " " + std::to_string(count) + " " + verdict;
    }
    out += "\n";
  }
  std::fputs(out.c_str(), stdout);
  return kOperateOk;
}

}  // namespace

int RunNodesCommand(const OperateOptions& o, bool doctor) {
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("nodes", client.status());
  StatusOr<proto::ListNodesResponse> nodes = (*client)->ListNodes();
  if (!nodes.ok()) return OperateFail("nodes", nodes.status());
  if (doctor) return PrintDoctorReports(*nodes, o.json);
  if (o.json) {
    JsonWriter w;
    w.BeginObject().Key("nodes").BeginArray();
    for (const proto::NodeStatus& n : nodes->nodes()) {
      w.BeginObject()
          .Key("node_id")
          .String(n.node_id())
          .Key("hostname")
          .String(n.hostname())
          .Key("state")
          .String(n.state())
          .Key("heartbeat_age_s");
      if (n.heartbeat_age_s() < 0) {
        w.Null();
      } else {
        w.Number(n.heartbeat_age_s());
      }
      w.Key("cpus")
          .Int(n.cpus())
          .Key("memory_bytes")
          .Int(n.memory_bytes())
          .Key("gpus")
          .Int(n.gpus())
          .Key("hcas")
          .Int(n.hcas())
          .Key("job_id")
          .String(n.job_id())
          .Key("drain_reason")
          .String(n.drain_reason())
          .Key("cordoned_until_unix_s")
          .Number(n.cordoned_until_unix_us() / 1e6)
          .Key("cordon_reason")
          .String(n.cordon_reason())
          .Key("agent_address")
          .String(n.agent_address())
          .EndObject();
    }
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
    return kOperateOk;
  }
  const double now = NowUnixSeconds();
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "HOST", "STATE", "HEARTBEAT", "CPUS", "MEMORY", "GPUS", "HCAS",
       "JOB", "REASON"}};
  for (const proto::NodeStatus& n : nodes->nodes()) {
    rows.push_back(
        {n.node_id(), n.hostname(), n.state(),
         n.heartbeat_age_s() < 0 ? "-"
                                 : Fixed(n.heartbeat_age_s(), 1) + "s ago",
         std::to_string(n.cpus()),
         Fixed(n.memory_bytes() / (1024.0 * 1024 * 1024), 1) + " GiB",
         std::to_string(n.gpus()), std::to_string(n.hcas()),
         n.job_id().empty() ? "-" : n.job_id(), NodeReason(n, now)});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
  return kOperateOk;
}

StatusOr<double> ParseSince(const std::string& since, double now) {
  if (since.empty()) return 0.0;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(since, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = since.substr(used);
  if (used > 0 && v >= 0 && std::isfinite(v)) {
    if (unit.empty()) return v;  // a Unix time
    if (unit == "s") return now - v;
    if (unit == "m") return now - 60 * v;
    if (unit == "h") return now - 3600 * v;
    if (unit == "d") return now - 86400 * v;
  }
  return InvalidArgument("--since `" + since +
                         "`: give a duration back from now (90s, 10m, 2h, "
                         "1d) or a Unix time in seconds");
}

namespace {

struct EventLine {
  double time_s = 0;
  std::string job_id, name;
  proto::JobEvent event;
};

void PrintEvent(const EventLine& e, bool json) {
  if (json) {
    JsonWriter w;
    w.BeginObject()
        .Key("time_unix_s")
        .Number(e.time_s)
        .Key("job_id")
        .String(e.job_id)
        .Key("name")
        .String(e.name)
        .Key("from")
        .String(e.event.from_state() == proto::JOB_STATE_UNSPECIFIED
                    ? ""
                    : JobStateName(e.event.from_state()))
        .Key("to")
        .String(JobStateName(e.event.to_state()))
        .Key("attempt")
        .Int(e.event.attempt())
        .Key("cause")
        .String(e.event.cause())
        .EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    const std::time_t t = static_cast<std::time_t>(e.time_s);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    std::printf("%s  %s  %-9s  %s\n", when, e.job_id.c_str(),
                JobStateName(e.event.to_state()), e.event.cause().c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int RunEventsCommand(const OperateOptions& o, const std::string& job,
                     const std::string& since, bool follow) {
  StatusOr<double> from = ParseSince(since, NowUnixSeconds());
  if (!from.ok()) return OperateFail("events", from.status());
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("events", client.status());
  // Printed so far, per job: events are only ever appended to a job's list.
  std::map<std::string, int> printed;
  while (true) {
    std::vector<std::string> ids;
    if (!job.empty()) {
      ids.push_back(job);
    } else {
      StatusOr<proto::ListJobsResponse> jobs = (*client)->ListJobs();
      if (!jobs.ok()) return OperateFail("events", jobs.status());
      for (const proto::JobSummary& j : jobs->jobs()) ids.push_back(j.job_id());
    }
    std::vector<EventLine> fresh;
    for (const std::string& id : ids) {
      StatusOr<proto::JobStatus> st = (*client)->GetJobStatus(id);
      if (!st.ok()) return OperateFail("events", st.status());
      int& done = printed[id];
      for (int i = done; i < st->events_size(); ++i) {
        const proto::JobEvent& e = st->events(i);
        if (e.time_unix_us() / 1e6 < *from) continue;
        fresh.push_back(EventLine{e.time_unix_us() / 1e6, id, st->name(), e});
      }
      done = st->events_size();
    }
    std::stable_sort(fresh.begin(), fresh.end(),
                     [](const EventLine& a, const EventLine& b) {
                       return a.time_s < b.time_s;
                     });
    for (const EventLine& e : fresh) PrintEvent(e, o.json);
    if (!follow) return kOperateOk;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int RunStatusCommand(const OperateOptions& o, const std::string& job) {
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("status", client.status());
  StatusOr<proto::JobStatus> st = (*client)->GetJobStatus(job);
  if (!st.ok()) return OperateFail("status", st.status());
  if (o.json) {
    // The coordinator's JobStatus as it is, with its proto field names.
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(*st, &out, options);
    std::printf("%s\n", out.c_str());
    return kOperateOk;
  }
  const proto::JobStatus& s = *st;
  std::printf("job       %s (%s)\n", s.job_id().c_str(), s.name().c_str());
  std::printf("state     %s", JobStateName(s.state()));
  if (!s.reason().empty()) std::printf(": %s", s.reason().c_str());
  if (!s.pending_reason().empty()) {
    std::printf(": %s", s.pending_reason().c_str());
  }
  std::printf("\nelapsed   %s\n", FormatAge(s.elapsed_s()).c_str());
  if (!s.slurm_job_id().empty()) {
    std::printf("slurm job %s\n", s.slurm_job_id().c_str());
  }
  std::printf("attempt   %d of at most %d restarts", s.attempt(),
              s.max_restarts());
  if (!s.restart_reason().empty()) {
    std::printf(" (latest: %s)", s.restart_reason().c_str());
  }
  std::printf("\n");
  // Placement, one line per node: its host and its ranks.
  std::map<int, std::pair<std::string, std::vector<int>>> by_node;
  for (const proto::RankAssignment& a : s.ranks()) {
    auto& node = by_node[a.node_rank()];
    node.first = a.host() + " (" + a.node_id() + ")";
    node.second.push_back(a.rank());
  }
  if (!by_node.empty()) {
    std::printf("ranks     %d on %zu node%s\n", s.world_size(), by_node.size(),
                by_node.size() == 1 ? "" : "s");
    for (const auto& [n, node] : by_node) {
      std::printf("  node %d  %s  ranks %d-%d\n", n, node.first.c_str(),
                  node.second.front(), node.second.back());
    }
  }
  if (!s.placement().empty()) {
    std::printf("placement %s\n", s.placement().c_str());
  }
  if (s.history_size() > 0) {
    const proto::StepMetrics& m = s.history(s.history_size() - 1);
    std::printf("step      %d/%d  loss %.4f  %.0f tokens/s  %.3f s/step\n",
                m.step(), m.total_steps(), m.loss(), m.tokens_per_s(),
                m.step_time_s());
  }
  if (s.has_hang()) {
    // The wavefront: where the waiting ranks are, who never arrived.
    const proto::HangReport& h = s.hang();
    std::printf("hang      after %.0f s without progress\n", h.stalled_s());
    if (h.waiting_size() > 0) {
      std::printf("  %d rank%s waiting in %s\n", h.waiting_size(),
                  h.waiting_size() == 1 ? "" : "s", h.collective().c_str());
    }
    for (const proto::HangRank& c : h.culprits()) {
      std::printf("  rank %d on %s: %s", c.rank(), c.host().c_str(),
                  c.why().c_str());
      if (c.seq() > 0) {
        std::printf(", last %s #%lld %s", c.op().c_str(),
                    static_cast<long long>(c.seq()),
                    c.completed() ? "done" : "waiting");
      }
      if (c.step() > 0)
        std::printf(", step %lld", static_cast<long long>(c.step()));
      if (!c.process().empty())
        std::printf(", process %s", c.process().c_str());
      std::printf("\n");
      for (const std::string& line : c.last_lines()) {
        std::printf("    | %s\n", line.c_str());
      }
    }
  }
  std::printf("events\n");
  for (const proto::JobEvent& e : s.events()) {
    PrintEvent(EventLine{e.time_unix_us() / 1e6, s.job_id(), s.name(), e},
               false);
  }
  return kOperateOk;
}

int RunCancelCommand(const OperateOptions& o, const std::string& job,
                     const std::string& reason) {
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("cancel", client.status());
  Status s = (*client)->CancelJob(
      job, reason.empty() ? std::string("cancelled by an operator") : reason);
  if (!s.ok()) return OperateFail("cancel", s);
  StatusOr<proto::JobStatus> st = (*client)->GetJobStatus(job);
  const std::string state =
      st.ok() ? JobStateName(st->state()) : std::string("UNKNOWN");
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("job_id")
        .String(job)
        .Key("state")
        .String(state)
        .EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("job %s: %s\n", job.c_str(), state.c_str());
  }
  return kOperateOk;
}

int RunPreemptCommand(const OperateOptions& o, const std::string& job,
                      double warning_s, const std::string& reason) {
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("preempt", client.status());
  StatusOr<proto::CancelJobResponse> r = (*client)->PreemptJob(
      job, warning_s,
      reason.empty() ? std::string("preempted by an operator") : reason);
  if (!r.ok()) return OperateFail("preempt", r.status());
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("job_id")
        .String(job)
        .Key("warning_s")
        .Number(warning_s)
        .Key("checkpoint_estimate_s")
        .Number(r->checkpoint_estimate_s())
        .Key("fits")
        .Bool(r->fits())
        .Key("estimate")
        .String(r->estimate())
        .EndObject();
    std::printf("%s\n", w.str().c_str());
    return kOperateOk;
  }
  if (r->checkpoint_estimate_s() < 0) {
    std::printf("job %s: stopping with a checkpoint within %s (%s)\n",
                job.c_str(), FormatLatency(warning_s).c_str(),
                r->estimate().empty() ? "no estimate" : r->estimate().c_str());
  } else {
    std::printf(
        "job %s: stopping with a checkpoint within %s: expected %s (%s), "
        "%s\n",
        job.c_str(), FormatLatency(warning_s).c_str(),
        FormatLatency(r->checkpoint_estimate_s()).c_str(),
        r->estimate().c_str(),
        r->fits() ? "fits" : "does NOT fit: ranks may be killed first");
  }
  return kOperateOk;
}

int RunDrainCommand(const OperateOptions& o, const std::string& node,
                    const std::string& reason, bool undrain) {
  const std::string command = undrain ? "undrain" : "drain";
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail(command, client.status());
  StatusOr<std::string> id = (*client)->DrainNode(node, reason, undrain);
  if (!id.ok()) return OperateFail(command, id.status());
  if (o.json) {
    JsonWriter w;
    w.BeginObject()
        .Key("node_id")
        .String(*id)
        .Key("drained")
        .Bool(!undrain)
        .EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf("node %s: %s\n", id->c_str(),
                undrain ? "takes new jobs again"
                        : "drained (its job finishes; no new job)");
  }
  return kOperateOk;
}

}  // namespace dstrain::cli
