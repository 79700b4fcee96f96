#include "cli/commands/operate.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <vector>

#include "common/json_writer.h"
#include "common/rpc/auth.h"
#include "common/rpc/token_file.h"
#include "coordinator/client/coordinator_client.h"

namespace dstrain::cli {
namespace {

int Fail(const std::string& command, const Status& s) {
  std::fprintf(stderr, "dstrain %s: %s\n", command.c_str(),
               s.message().c_str());
  switch (s.code()) {
    case StatusCode::kNotFound:
      return kOperateNotFound;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return kOperateDenied;
    case StatusCode::kInvalidArgument:
      return kOperateUsage;
    default:
      return kOperateFailed;
  }
}

// The client for `command`, or an exit code (usage) after saying why.
StatusOr<std::unique_ptr<coordinator::CoordinatorClient>> Connect(
    const OperateOptions& o) {
  std::string address = o.coordinator;
  if (address.empty()) {
    const char* env = std::getenv("DSTRAIN_COORDINATOR");
    if (env != nullptr) address = env;
  }
  if (address.empty()) {
    return InvalidArgument(
        "no coordinator: give --coordinator HOST:PORT or set "
        "DSTRAIN_COORDINATOR");
  }
  DSTRAIN_ASSIGN_OR_RETURN(
      std::string token,
      rpc::ResolveClusterToken(o.token_file, "--token-file"));
  DSTRAIN_ASSIGN_OR_RETURN(std::optional<rpc::TlsConfig> tls,
                           rpc::LoadTls(o.tls));
  if (tls.has_value()) rpc::UseTls(std::move(*tls));
  return std::make_unique<coordinator::CoordinatorClient>(address, token);
}

std::string StateName(proto::JobState s) {
  switch (s) {
    case proto::JOB_PENDING:
      return "PENDING";
    case proto::JOB_STARTING:
      return "STARTING";
    case proto::JOB_RUNNING:
      return "RUNNING";
    case proto::JOB_SUCCEEDED:
      return "SUCCEEDED";
    case proto::JOB_FAILED:
      return "FAILED";
    case proto::JOB_CANCELLED:
      return "CANCELLED";
    default:
      return "UNKNOWN";
  }
}

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
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (std::size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size())
        line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

int RunJobsCommand(const OperateOptions& o) {
  auto client = Connect(o);
  if (!client.ok()) return Fail("jobs", client.status());
  StatusOr<proto::ListJobsResponse> jobs = (*client)->ListJobs();
  if (!jobs.ok()) return Fail("jobs", jobs.status());
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
          .String(StateName(j.state()))
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
    rows.push_back(
        {j.job_id(), j.name(), StateName(j.state()), std::to_string(j.nodes()),
         j.step() > 0
             ? std::to_string(j.step()) + "/" + std::to_string(j.total_steps())
             : "-",
         j.step() > 0 ? Fixed(j.loss(), 4) : "-",
         j.step() > 0 ? Fixed(j.tokens_per_s(), 0) : "-",
         FormatAge(now - j.submitted_unix_us() / 1e6), why});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
  return kOperateOk;
}

int RunNodesCommand(const OperateOptions& o) {
  auto client = Connect(o);
  if (!client.ok()) return Fail("nodes", client.status());
  StatusOr<proto::ListNodesResponse> nodes = (*client)->ListNodes();
  if (!nodes.ok()) return Fail("nodes", nodes.status());
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
          .Key("agent_address")
          .String(n.agent_address())
          .EndObject();
    }
    w.EndArray().EndObject();
    std::printf("%s\n", w.str().c_str());
    return kOperateOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "HOST", "STATE", "HEARTBEAT", "CPUS", "MEMORY", "GPUS", "HCAS",
       "JOB", "REASON"}};
  for (const proto::NodeStatus& n : nodes->nodes()) {
    rows.push_back({n.node_id(), n.hostname(), n.state(),
                    n.heartbeat_age_s() < 0
                        ? "-"
                        : Fixed(n.heartbeat_age_s(), 1) + "s ago",
                    std::to_string(n.cpus()),
                    Fixed(n.memory_bytes() / (1024.0 * 1024 * 1024), 1) + " GiB",
                    std::to_string(n.gpus()), std::to_string(n.hcas()),
                    n.job_id().empty() ? "-" : n.job_id(), n.drain_reason()});
  }
  std::fputs(FormatTable(rows).c_str(), stdout);
  return kOperateOk;
}

int RunCancelCommand(const OperateOptions& o, const std::string& job,
                     const std::string& reason) {
  auto client = Connect(o);
  if (!client.ok()) return Fail("cancel", client.status());
  Status s = (*client)->CancelJob(
      job, reason.empty() ? std::string("cancelled by an operator") : reason);
  if (!s.ok()) return Fail("cancel", s);
  StatusOr<proto::JobStatus> st = (*client)->GetJobStatus(job);
  const std::string state =
      st.ok() ? StateName(st->state()) : std::string("UNKNOWN");
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

int RunDrainCommand(const OperateOptions& o, const std::string& node,
                    const std::string& reason, bool undrain) {
  const std::string command = undrain ? "undrain" : "drain";
  auto client = Connect(o);
  if (!client.ok()) return Fail(command, client.status());
  StatusOr<std::string> id = (*client)->DrainNode(node, reason, undrain);
  if (!id.ok()) return Fail(command, id.status());
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
