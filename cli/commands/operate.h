#pragma once
// The operators' commands against a running coordinator:
//
//   dstrain jobs                    every job: id, name, state, nodes,
//                                   step/total, loss, tokens/s, age; a
//                                   queued job's reason
//   dstrain nodes                   every node: id, host, state, heartbeat
//                                   age, CPUs, memory, GPUs, HCAs, job,
//                                   drain reason
//   dstrain status JOB              one job: state and why, placement,
//                                   restarts, latest metrics, its events
//   dstrain events [JOB] [--since D] [--follow]
//                                   every change of state of one job or of
//                                   all, with times and causes
//   dstrain cancel JOB [--reason]   cancel a job (its workers are stopped)
//   dstrain preempt JOB [--warning S] [--reason]
//                                   stop a job with a checkpoint of its
//                                   current step (exit 75, requeue): says
//                                   whether the checkpoint is expected to
//                                   fit in the warning
//   dstrain drain NODE [--reason]   no new job on NODE; its job finishes
//   dstrain undrain NODE
//
// Each prints a table (or one line) for people, or with --json one JSON
// document whose field names are stable (docs/operators.md). The
// coordinator comes from --coordinator or DSTRAIN_COORDINATOR, the
// operator token from --token-file or DSTRAIN_TOKEN, TLS from the --tls-*
// flags.
//
// Exit codes: 0 done; 1 the coordinator failed the call or could not be
// reached (the message says which); 2 bad usage (no coordinator, no token,
// unreadable TLS files); 3 no such job or node; 4 the credential may not
// do that (UNAUTHENTICATED or PERMISSION_DENIED).

#include <string>
#include <vector>

#include "common/rpc/tls.h"
#include "common/status.h"

namespace dstrain::cli {

struct OperateOptions {
  std::string coordinator;  // "" = $DSTRAIN_COORDINATOR
  std::string token_file;   // "" = $DSTRAIN_TOKEN
  rpc::TlsFiles tls;
  bool json = false;
};

inline constexpr int kOperateOk = 0;
inline constexpr int kOperateFailed = 1;
inline constexpr int kOperateUsage = 2;
inline constexpr int kOperateNotFound = 3;
inline constexpr int kOperateDenied = 4;

int RunJobsCommand(const OperateOptions& options);
// With `doctor`: each node's `dstrain doctor` report as its agent ran it
// when it registered (agent/doctor/doctor.h; no disk read test), then one
// line counting the nodes per verdict.
int RunNodesCommand(const OperateOptions& options, bool doctor = false);
int RunStatusCommand(const OperateOptions& options, const std::string& job);
// `since`: "" (everything), a duration back from now ("90s", "10m", "2h",
// "1d") or a Unix time in seconds. `follow`: keep printing new events,
// once a second, until interrupted.
int RunEventsCommand(const OperateOptions& options, const std::string& job,
                     const std::string& since, bool follow);
int RunCancelCommand(const OperateOptions& options, const std::string& job,
                     const std::string& reason);
int RunPreemptCommand(const OperateOptions& options, const std::string& job,
                      double warning_s, const std::string& reason);
int RunDrainCommand(const OperateOptions& options, const std::string& node,
                    const std::string& reason, bool undrain);

// Pure helpers, for tests: a table with a header row, columns padded to
// their widest cell, two spaces apart, the last column not padded.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);
// "45s", "12m", "3h05m", "2d04h".
std::string FormatAge(double seconds);
// --since as a Unix time in seconds, given the time now; INVALID_ARGUMENT
// naming the flag for anything else.
StatusOr<double> ParseSince(const std::string& since, double now_unix_s);

}  // namespace dstrain::cli
