#include "worker/comm/bench/bench_report.h"

#include <algorithm>

#include "common/json_writer.h"
#include "common/strings.h"
#include "common/units.h"

namespace dstrain::comm::bench {
namespace {

// Column widths; TableHeader's titles and TableRow's values share them.
constexpr int kOpWidth = 14;
constexpr int kSizeWidth = 12;
constexpr int kCountWidth = 12;
constexpr int kItersWidth = 9;
constexpr int kRepeatsWidth = 6;
constexpr int kTimeWidth = 14;
constexpr int kSpreadWidth = 13;
constexpr int kBwWidth = 12;
constexpr int kCorrectWidth = 8;

}  // namespace

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  s.min = values.front();
  s.max = values.back();
  s.median =
      n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return s;
}

BenchRow MakeRow(BenchOp op, std::int64_t bytes, std::int64_t count, int iters,
                 const std::vector<double>& repeat_times, int world_size,
                 bool correct) {
  BenchRow r;
  r.op = op;
  r.bytes = bytes;
  r.count = count;
  r.iters = iters;
  r.repeats = static_cast<int>(repeat_times.size());
  const Spread spread = SpreadOf(repeat_times);
  r.time_s = spread.median;
  r.min_time_s = spread.min;
  r.max_time_s = spread.max;
  r.correct = correct;
  if (op != BenchOp::kBarrier) {
    r.algbw_gb_per_s = AlgBandwidthGBps(bytes, r.time_s);
    r.busbw_gb_per_s = BusBandwidthGBps(op, world_size, bytes, r.time_s);
  }
  return r;
}

std::string TableHeader(const BenchReport& report) {
  const IterationPolicy& p = report.policy;
  std::string out = "# " + report.tool + " bench comm: backend " +
                    report.backend + ", " + std::to_string(report.world_size) +
                    (report.world_size == 1 ? " rank, " : " ranks, ") +
                    report.dtype + " on " + report.device + "\n";
  // Word for word what iteration_policy.h does, so that the iters and
  // reps columns can be checked against it.
  if (p.fixed_iters > 0) {
    out += StrFormat(
        "# iterations per row: a checked run, a timed run, min(5, iters/10) "
        "warm-ups, then %d repeats of %d timed runs: iters = %d, reps = %d\n",
        p.repeats, p.fixed_iters, p.repeats * p.fixed_iters, p.repeats);
  } else {
    out += StrFormat(
        "# iterations per row: a checked run; a timed run of t seconds (the "
        "slowest rank's); N = ceil(%.3g / (%d t)) timed runs per repeat, at "
        "least %d, at most %d; min(5, %d N / 10) warm-ups; then at least %d "
        "repeats of N, more until %.3g s is measured, at most %d runs in all; "
        "iters = N x reps\n",
        p.target_seconds, p.repeats, p.min_iters,
        std::max(p.min_iters, p.max_iters / std::max(1, p.repeats)), p.repeats,
        p.repeats, p.target_seconds, MaxRowIterations(p));
  }
  out +=
      "# time: per op, the median repeat (each the mean over ranks), min and "
      "max the fastest and slowest repeat; algbw = size/time; busbw = algbw x "
      "2(n-1)/n all_reduce, (n-1)/n all_gather reduce_scatter, 1 broadcast "
      "(nccl-tests)\n#\n";
  out += StrFormat("#%*s%*s%*s%*s%*s%*s%*s%*s%*s%*s%*s\n", kOpWidth - 1, "op",
                   kSizeWidth, "size(B)", kCountWidth, "count", kItersWidth,
                   "iters", kRepeatsWidth, "reps", kTimeWidth, "time(us)",
                   kSpreadWidth, "min(us)", kSpreadWidth, "max(us)",
                   kBwWidth + 1, "algbw(GB/s)", kBwWidth + 1, "busbw(GB/s)",
                   kCorrectWidth + 1, "correct");
  return out;
}

std::string TableRow(const BenchRow& row) {
  const bool bw = row.op != BenchOp::kBarrier;
  const std::string algbw = bw ? StrFormat("%.3f", row.algbw_gb_per_s) : "-";
  const std::string busbw = bw ? StrFormat("%.3f", row.busbw_gb_per_s) : "-";
  return StrFormat(
      "%*s%*lld%*lld%*d%*d%*.2f%*.2f%*.2f%*s%*s%*s\n", kOpWidth,
      BenchOpName(row.op), kSizeWidth, static_cast<long long>(row.bytes),
      kCountWidth, static_cast<long long>(row.count), kItersWidth, row.iters,
      kRepeatsWidth, row.repeats, kTimeWidth, row.time_s * 1e6, kSpreadWidth,
      row.min_time_s * 1e6, kSpreadWidth, row.max_time_s * 1e6, kBwWidth + 1,
      algbw.c_str(), kBwWidth + 1, busbw.c_str(), kCorrectWidth + 1,
      row.correct ? "ok" : "WRONG");
}

std::string TableFooter(const BenchReport& report) {
  int wrong = 0;
  std::string wrong_rows;
  double busbw_sum = 0;
  int busbw_rows = 0;
  for (const BenchRow& r : report.rows) {
    if (!r.correct) {
      ++wrong;
      if (wrong <= 8) {
        wrong_rows += std::string(wrong_rows.empty() ? "" : ", ") +
                      BenchOpName(r.op) + " " + FormatByteSize(r.bytes);
      }
    }
    if (r.op != BenchOp::kBarrier) {
      busbw_sum += r.busbw_gb_per_s;
      ++busbw_rows;
    }
  }
  const int n = static_cast<int>(report.rows.size());
  std::string out;
  if (wrong == 0) {
    out = "# all " + std::to_string(n) + " rows correct";
  } else {
    out = "# " + std::to_string(wrong) + " of " + std::to_string(n) +
          " rows WRONG: " + wrong_rows + (wrong > 8 ? ", ..." : "");
  }
  if (busbw_rows > 0) {
    out += StrFormat("; mean busbw %.3f GB/s over %d rows (all but barrier)",
                     busbw_sum / busbw_rows, busbw_rows);
  }
  return out + "\n";
}

std::string FormatTable(const BenchReport& report) {
  std::string out = TableHeader(report);
  for (const BenchRow& r : report.rows) out += TableRow(r);
  return out + TableFooter(report);
}

std::string ProgressLine(int row, int rows, BenchOp op, std::int64_t bytes,
                         double elapsed_s) {
  std::string what = BenchOpName(op);
  if (op != BenchOp::kBarrier) what += " " + FormatByteSize(bytes);
  return StrFormat("bench comm: row %d/%d, %s, %.0f s", row, rows, what.c_str(),
                   elapsed_s);
}

std::string ReportJson(const BenchReport& report) {
  JsonWriter w;
  w.BeginObject()
      .Key("tool")
      .String(report.tool)
      .Key("backend")
      .String(report.backend)
      .Key("world_size")
      .Int(report.world_size)
      .Key("dtype")
      .String(report.dtype)
      .Key("device")
      .String(report.device)
      .Key("target_seconds")
      .Number(report.policy.target_seconds)
      .Key("min_iters")
      .Int(report.policy.min_iters)
      .Key("max_iters")
      .Int(report.policy.max_iters)
      .Key("fixed_iters")
      .Int(report.policy.fixed_iters)
      .Key("repeats")
      .Int(report.policy.repeats)
      .Key("rows")
      .BeginArray();
  for (const BenchRow& r : report.rows) {
    w.BeginObject()
        .Key("op")
        .String(BenchOpName(r.op))
        .Key("bytes")
        .Int(r.bytes)
        .Key("count")
        .Int(r.count)
        .Key("iters")
        .Int(r.iters)
        .Key("repeats")
        .Int(r.repeats)
        .Key("time_us")
        .Number(r.time_s * 1e6)
        .Key("time_min_us")
        .Number(r.min_time_s * 1e6)
        .Key("time_max_us")
        .Number(r.max_time_s * 1e6);
    if (r.op == BenchOp::kBarrier) {
      w.Key("algbw_gb_per_s").Null().Key("busbw_gb_per_s").Null();
    } else {
      w.Key("algbw_gb_per_s")
          .Number(r.algbw_gb_per_s)
          .Key("busbw_gb_per_s")
          .Number(r.busbw_gb_per_s);
    }
    w.Key("correct").Bool(r.correct).EndObject();
  }
  w.EndArray().EndObject();
  return w.str();
}

}  // namespace dstrain::comm::bench
