#include "cli/commands/logs.h"

#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "cli/commands/coordinator_connection.h"
#include "common/json_writer.h"

namespace dstrain::cli {
namespace {

bool Ended(proto::JobState s) {
  return s == proto::JOB_SUCCEEDED || s == proto::JOB_FAILED ||
         s == proto::JOB_CANCELLED;
}

}  // namespace

std::string FormatLogLine(const proto::LogLine& line, bool json) {
  if (!json) {
    return "[rank " + std::to_string(line.rank()) + " " + line.host() + "] " +
           line.text() + "\n";
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("rank").Int(line.rank());
  w.Key("host").String(line.host());
  w.Key("line_no").Int(line.line_no());
  w.Key("time_unix_s").Number(static_cast<double>(line.time_unix_us()) / 1e6);
  w.Key("stream").String(line.from_stderr() ? "stderr" : "stdout");
  w.Key("text").String(line.text());
  w.EndObject();
  return w.str() + "\n";
}

int RunLogsCommand(const OperateOptions& o, const std::string& job,
                   const LogsOptions& logs) {
  if (logs.tail < 0) {
    return OperateFail("logs",
                       InvalidArgument("--tail " + std::to_string(logs.tail) +
                                       " must be 0 (all) or more"));
  }
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("logs", client.status());
  proto::GetLogsRequest request;
  request.set_job_id(job);
  request.set_all_ranks(logs.rank < 0);
  request.set_rank(logs.rank);
  request.set_node(logs.node);
  request.set_tail(logs.tail);
  std::map<int, std::int64_t> cursors;
  std::set<std::string> warned;
  std::int64_t dropped_said = 0;
  int attempt = -1;
  while (true) {
    // Whether the job had ended before this read: then what it returns is
    // the last there will be.
    bool ended = false;
    if (logs.follow) {
      StatusOr<proto::JobStatus> status =
          (*client)->GetJobStatus(job, std::numeric_limits<int>::max());
      if (!status.ok()) return OperateFail("logs", status.status());
      ended = Ended(status->state());
      // A restarted job: its new attempt's lines, from their start.
      if (attempt >= 0 && status->attempt() != attempt) {
        cursors.clear();
        request.set_tail(0);
      }
    }
    request.clear_after();
    for (const auto& [rank, next] : cursors) {
      proto::LogCursor* c = request.add_after();
      c->set_rank(rank);
      c->set_next_line(next);
    }
    StatusOr<proto::GetLogsResponse> got = (*client)->GetLogs(request);
    if (!got.ok()) {
      // Not placed yet: a follower waits for the job to start.
      if (logs.follow &&
          got.status().code() == StatusCode::kFailedPrecondition) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      return OperateFail("logs", got.status());
    }
    attempt = got->attempt();
    for (const std::string& u : got->unreachable()) {
      if (warned.insert(u.substr(0, u.find(':'))).second) {
        std::fprintf(stderr, "dstrain logs: cannot read %s\n", u.c_str());
      }
    }
    if (got->dropped() > dropped_said) {
      std::fprintf(stderr,
                   "dstrain logs: %lld older lines were rotated away on "
                   "their nodes\n",
                   static_cast<long long>(got->dropped() - dropped_said));
      dropped_said = got->dropped();
    }
    std::string out;
    for (const proto::LogLine& line : got->lines()) {
      out += FormatLogLine(line, o.json);
    }
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
    for (const proto::LogCursor& c : got->next()) {
      cursors[c.rank()] = c.next_line();
    }
    request.set_tail(0);  // later reads go on from the cursors
    if (!logs.follow || (ended && got->lines_size() == 0)) return kOperateOk;
    if (got->lines_size() == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

}  // namespace dstrain::cli
