#pragma once
// `dstrain top JOB`: a live table of a job's ranks, refreshed every second,
// as top(1) shows processes. One row per rank: host, step, step time,
// tokens/s, loss, loss scale, peak memory, and the share of its latest
// step spent waiting in communication and for data. The slowest rank (the
// one furthest behind; among those, the longest step) is highlighted.
//
// On a terminal it takes the whole screen (the alternate screen, restored
// on exit) and reads keys: `s` sorts by the next column, `r` reverses the
// order, `q` (or Ctrl-C) quits. `--sort KEY` picks the first order;
// `--once` prints one frame and exits (for scripts; with --json, one JSON
// document). Not on a terminal, it prints a frame a second, as `top -b`.
// Exit codes as the other operators' commands (operate.h).

#include <string>
#include <vector>

#include "cli/commands/operate.h"
#include "common/status.h"
#include "dstrain.pb.h"

namespace dstrain::cli {

enum class TopSort {
  kRank,
  kHost,
  kStep,
  kTime,
  kTokens,
  kLoss,
  kScale,
  kMemory,
  kComm,
  kData
};

// "rank", "host", "step", "time", "tokens", "loss", "scale", "memory",
// "comm", "data"; INVALID_ARGUMENT naming --sort and the keys otherwise.
StatusOr<TopSort> ParseTopSort(const std::string& key);
std::string TopSortName(TopSort sort);
TopSort NextTopSort(TopSort sort);

struct TopView {
  TopSort sort = TopSort::kRank;
  bool reverse = false;
  bool ansi = false;  // colours and reverse video (a terminal)
};

// One rank's row; `reported` false until its first step arrives.
struct TopRow {
  int rank = 0;
  std::string host;
  bool reported = false;
  proto::StepMetrics latest;
};

// A row per rank of the job's assignment (and any rank that reported
// without one), sorted as `view` says: each key's natural order puts the
// worst first (behind, slow, low throughput, high loss, much memory, much
// waiting), `reverse` flips it; ties by rank.
std::vector<TopRow> TopRows(const proto::JobStatus& status,
                            const TopView& view);
// The slowest rank of `rows`: the lowest step, then the longest step time;
// -1 when no rank has reported.
int SlowestRank(const std::vector<TopRow>& rows);

// The frame: a header (job, name, state, step/total, ranks, attempt, sort
// key) and the table, the slowest rank marked ("<- slowest", in reverse
// video with ansi).
std::string RenderTopFrame(const proto::JobStatus& status, const TopView& view);
// `top --once --json`: {"job_id", "state", "step", "total_steps",
// "slowest_rank", "ranks": [{"rank", "host", "step", "step_time_s",
// "tokens_per_s", "loss", "loss_scale", "peak_rss_bytes", "comm_share",
// "data_share"}]}.
std::string TopJson(const proto::JobStatus& status, const TopView& view);

int RunTopCommand(const OperateOptions& options, const std::string& job,
                  const std::string& sort, bool once);

}  // namespace dstrain::cli
