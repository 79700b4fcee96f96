#include "cli/commands/top.h"

#include <poll.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <map>
#include <thread>
#include <tuple>

#include "cli/commands/coordinator_connection.h"
#include "common/json_writer.h"
#include "common/units.h"

namespace dstrain::cli {
namespace {

constexpr TopSort kSorts[] = {TopSort::kRank,  TopSort::kHost,   TopSort::kStep,
                              TopSort::kTime,  TopSort::kTokens, TopSort::kLoss,
                              TopSort::kScale, TopSort::kMemory, TopSort::kComm,
                              TopSort::kData};

double Share(double part, double whole) {
  return whole > 0 ? std::clamp(part / whole, 0.0, 1.0) : 0.0;
}

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Percent(double share) { return Fixed(100 * share, 0) + "%"; }

// The key a row sorts by, worst first when ascending.
std::tuple<bool, double, std::string> SortKey(const TopRow& r, TopSort sort) {
  const proto::StepMetrics& m = r.latest;
  // Ranks that never reported go last whatever the key.
  const bool silent = !r.reported;
  switch (sort) {
    case TopSort::kRank:
      return {false, r.rank, ""};
    case TopSort::kHost:
      return {false, 0, r.host};
    case TopSort::kStep:
      return {silent, m.step(), ""};
    case TopSort::kTime:
      return {silent, -m.step_time_s(), ""};
    case TopSort::kTokens:
      return {silent, m.tokens_per_s(), ""};
    case TopSort::kLoss:
      return {silent, -m.loss(), ""};
    case TopSort::kScale:
      return {silent, m.loss_scale(), ""};
    case TopSort::kMemory:
      return {silent, -static_cast<double>(m.peak_rss_bytes()), ""};
    case TopSort::kComm:
      return {silent, -Share(m.comm_time_s(), m.step_time_s()), ""};
    case TopSort::kData:
      return {silent, -Share(m.data_wait_s(), m.step_time_s()), ""};
  }
  return {false, r.rank, ""};
}

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

// The terminal in raw mode on the alternate screen while top runs; put
// back as it was on destruction.
class FullScreen {
 public:
  FullScreen() {
    keys_ = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved_) == 0;
    if (keys_) {
      termios raw = saved_;
      raw.c_lflag &= ~(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    }
    std::fputs("\x1b[?1049h\x1b[?25l", stdout);  // alternate screen, no cursor
    std::fflush(stdout);
  }
  ~FullScreen() {
    std::fputs("\x1b[?25h\x1b[?1049l", stdout);
    std::fflush(stdout);
    if (keys_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  bool keys() const { return keys_; }

 private:
  termios saved_{};
  bool keys_ = false;
};

}  // namespace

StatusOr<TopSort> ParseTopSort(const std::string& key) {
  for (TopSort s : kSorts) {
    if (TopSortName(s) == key) return s;
  }
  std::string keys;
  for (TopSort s : kSorts) keys += (keys.empty() ? "" : ", ") + TopSortName(s);
  return InvalidArgument("--sort `" + key + "` is not a column; use one of " +
                         keys);
}

std::string TopSortName(TopSort sort) {
  switch (sort) {
    case TopSort::kRank:
      return "rank";
    case TopSort::kHost:
      return "host";
    case TopSort::kStep:
      return "step";
    case TopSort::kTime:
      return "time";
    case TopSort::kTokens:
      return "tokens";
    case TopSort::kLoss:
      return "loss";
    case TopSort::kScale:
      return "scale";
    case TopSort::kMemory:
      return "memory";
    case TopSort::kComm:
      return "comm";
    case TopSort::kData:
      return "data";
  }
  return "rank";
}

TopSort NextTopSort(TopSort sort) {
  const std::size_t n = sizeof(kSorts) / sizeof(kSorts[0]);
  for (std::size_t i = 0; i < n; ++i) {
    if (kSorts[i] == sort) return kSorts[(i + 1) % n];
  }
  return TopSort::kRank;
}

std::vector<TopRow> TopRows(const proto::JobStatus& status,
                            const TopView& view) {
  std::map<int, TopRow> by_rank;
  for (const proto::RankAssignment& a : status.ranks()) {
    TopRow& r = by_rank[a.rank()];
    r.rank = a.rank();
    r.host = a.host();
  }
  for (const proto::StepMetrics& m : status.latest()) {
    TopRow& r = by_rank[m.rank()];
    r.rank = m.rank();
    r.reported = true;
    r.latest = m;
  }
  std::vector<TopRow> rows;
  for (auto& [rank, row] : by_rank) rows.push_back(std::move(row));
  std::stable_sort(rows.begin(), rows.end(),
                   [&](const TopRow& a, const TopRow& b) {
                     auto ka = SortKey(a, view.sort);
                     auto kb = SortKey(b, view.sort);
                     if (std::get<0>(ka) != std::get<0>(kb)) {
                       return std::get<0>(kb);  // reported first, always
                     }
                     if (ka != kb) return view.reverse ? kb < ka : ka < kb;
                     return a.rank < b.rank;
                   });
  return rows;
}

int SlowestRank(const std::vector<TopRow>& rows) {
  const TopRow* slowest = nullptr;
  for (const TopRow& r : rows) {
    if (!r.reported) continue;
    if (slowest == nullptr || r.latest.step() < slowest->latest.step() ||
        (r.latest.step() == slowest->latest.step() &&
         r.latest.step_time_s() > slowest->latest.step_time_s())) {
      slowest = &r;
    }
  }
  return slowest == nullptr ? -1 : slowest->rank;
}

std::string RenderTopFrame(const proto::JobStatus& status,
                           const TopView& view) {
  const std::vector<TopRow> rows = TopRows(status, view);
  const int slowest = SlowestRank(rows);
  int step = 0, total = 0;
  for (const TopRow& r : rows) {
    if (r.rank == 0 && r.reported) {
      step = r.latest.step();
      total = r.latest.total_steps();
    }
  }
  std::string out =
      "job " + status.job_id() + " (" + status.name() + ")  " +
      JobStateName(status.state()) + "  step " + std::to_string(step) + "/" +
      std::to_string(total) + "  ranks " + std::to_string(rows.size()) +
      "  attempt " + std::to_string(status.attempt()) + "  sort " +
      TopSortName(view.sort) + (view.reverse ? " (reversed)" : "") + "\n\n";
  std::vector<std::vector<std::string>> table{{"RANK", "HOST", "STEP", "STEP_S",
                                               "TOK/S", "LOSS", "SCALE",
                                               "PEAK_MEM", "COMM", "DATA", ""}};
  for (const TopRow& r : rows) {
    const proto::StepMetrics& m = r.latest;
    if (!r.reported) {
      table.push_back({std::to_string(r.rank), r.host, "-", "-", "-", "-", "-",
                       "-", "-", "-", ""});
      continue;
    }
    table.push_back({std::to_string(r.rank), r.host, std::to_string(m.step()),
                     Fixed(m.step_time_s(), 3), Fixed(m.tokens_per_s(), 0),
                     Fixed(m.loss(), 4), Fixed(m.loss_scale(), 0),
                     FormatByteSize(m.peak_rss_bytes()),
                     Percent(Share(m.comm_time_s(), m.step_time_s())),
                     Percent(Share(m.data_wait_s(), m.step_time_s())),
                     r.rank == slowest ? "<- slowest" : ""});
  }
  const std::string text = FormatTable(table);
  // The slowest rank's line in reverse video on a terminal.
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < table.size(); ++i) {
    std::size_t end = text.find('\n', line_start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(line_start, end - line_start);
    if (view.ansi && i == 0) line = "\x1b[1m" + line + "\x1b[0m";
    if (view.ansi && i > 0 && table[i].back() == "<- slowest") {
      line = "\x1b[7m" + line + "\x1b[0m";
    }
    out += line + "\n";
    line_start = end + 1;
  }
  if (view.ansi) out += "\ns: sort by the next column   r: reverse   q: quit\n";
  return out;
}

std::string TopJson(const proto::JobStatus& status, const TopView& view) {
  const std::vector<TopRow> rows = TopRows(status, view);
  JsonWriter w;
  w.BeginObject();
  w.Key("job_id").String(status.job_id());
  w.Key("name").String(status.name());
  w.Key("state").String(JobStateName(status.state()));
  int step = 0, total = 0;
  for (const TopRow& r : rows) {
    if (r.rank == 0 && r.reported) {
      step = r.latest.step();
      total = r.latest.total_steps();
    }
  }
  w.Key("step").Int(step);
  w.Key("total_steps").Int(total);
  w.Key("slowest_rank").Int(SlowestRank(rows));
  w.Key("ranks").BeginArray();
  for (const TopRow& r : rows) {
    const proto::StepMetrics& m = r.latest;
    w.BeginObject();
    w.Key("rank").Int(r.rank);
    w.Key("host").String(r.host);
    w.Key("reported").Bool(r.reported);
    w.Key("step").Int(m.step());
    w.Key("step_time_s").Number(m.step_time_s());
    w.Key("tokens_per_s").Number(m.tokens_per_s());
    w.Key("loss").Number(m.loss());
    w.Key("loss_scale").Number(m.loss_scale());
    w.Key("peak_rss_bytes").Int(m.peak_rss_bytes());
    w.Key("comm_share").Number(Share(m.comm_time_s(), m.step_time_s()));
    w.Key("data_share").Number(Share(m.data_wait_s(), m.step_time_s()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.str() + "\n";
}

int RunTopCommand(const OperateOptions& o, const std::string& job,
                  const std::string& sort, bool once) {
  TopView view;
  if (!sort.empty()) {
    StatusOr<TopSort> parsed = ParseTopSort(sort);
    if (!parsed.ok()) return OperateFail("top", parsed.status());
    view.sort = *parsed;
  }
  auto client = ConnectOperator(o);
  if (!client.ok()) return OperateFail("top", client.status());
  // No step history: only each rank's latest metrics are drawn.
  const auto fetch = [&]() { return (*client)->GetJobStatus(job, INT_MAX); };
  if (once || !::isatty(STDOUT_FILENO)) {
    while (true) {
      StatusOr<proto::JobStatus> s = fetch();
      if (!s.ok()) return OperateFail("top", s.status());
      const std::string frame =
          o.json ? TopJson(*s, view) : RenderTopFrame(*s, view);
      std::fputs(frame.c_str(), stdout);
      std::fflush(stdout);
      if (once) return kOperateOk;
      std::fputs("\n", stdout);
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  view.ansi = true;
  Status failed;
  {
    FullScreen screen;  // left before a failure is reported
    while (!g_stop) {
      StatusOr<proto::JobStatus> s = fetch();
      if (!s.ok()) {
        failed = s.status();
        break;
      }
      const std::string frame = "\x1b[H\x1b[2J" + RenderTopFrame(*s, view);
      std::fputs(frame.c_str(), stdout);
      std::fflush(stdout);
      // Keys until the next refresh, a second after this one.
      const auto next =
          std::chrono::steady_clock::now() + std::chrono::seconds(1);
      bool redraw = false;
      while (!g_stop && !redraw) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            next - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd in{STDIN_FILENO, POLLIN, 0};
        const int ready =
            screen.keys() ? ::poll(&in, 1, static_cast<int>(left.count()))
                          : ::poll(nullptr, 0, static_cast<int>(left.count()));
        if (ready <= 0) continue;  // the time is up, or a signal came
        char key = 0;
        if (::read(STDIN_FILENO, &key, 1) != 1) continue;
        if (key == 'q' || key == 'Q') g_stop = true;
        if (key == 's') {
          view.sort = NextTopSort(view.sort);
          redraw = true;
        }
        if (key == 'r') {
          view.reverse = !view.reverse;
          redraw = true;
        }
      }
    }
  }
  if (!failed.ok()) return OperateFail("top", failed);
  return kOperateOk;
}

}  // namespace dstrain::cli
