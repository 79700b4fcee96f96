#pragma once
// `dstrain logs JOB [--rank N] [--node H] [--tail K] [--follow]`: what the
// job's workers wrote on stdout and stderr, kept by each node's agent
// (agent/worker_logs.h) and read through the coordinator, as
// `kubectl logs` reads a pod's. Every line as "[rank N host] text", in
// time order across nodes; with --json one object per line: rank, host,
// line_no, time_unix_s, stream ("stdout" or "stderr"), text.
//
// --tail K: each rank's last K lines. --follow: then every new line as it
// arrives (the coordinator is asked twice a second), until the job has
// ended and its last lines are out, or Ctrl-C. A node whose agent cannot
// be read is named once on stderr; the others go on. Exit codes as the
// other operators' commands (operate.h).

#include <string>

#include "cli/commands/operate.h"
#include "dstrain.pb.h"

namespace dstrain::cli {

struct LogsOptions {
  int rank = -1;  // -1: every rank
  std::string node;
  int tail = 0;  // 0: everything kept
  bool follow = false;
};

// One line as printed: "[rank 1 node-b] text\n", or the JSON object.
std::string FormatLogLine(const proto::LogLine& line, bool json);

int RunLogsCommand(const OperateOptions& options, const std::string& job,
                   const LogsOptions& logs);

}  // namespace dstrain::cli
