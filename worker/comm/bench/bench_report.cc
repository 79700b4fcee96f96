#include "worker/comm/bench/bench_report.h"

#include "common/json_writer.h"
#include "common/strings.h"
#include "common/units.h"

namespace dstrain::comm::bench {
namespace {

// Column widths; TableHeader's titles and TableRow's values share them.
constexpr int kOpWidth = 14;
constexpr int kSizeWidth = 12;
constexpr int kCountWidth = 12;
constexpr int kItersWidth = 7;
constexpr int kTimeWidth = 14;
constexpr int kBwWidth = 12;
constexpr int kCorrectWidth = 8;

}  // namespace

BenchRow MakeRow(BenchOp op, std::int64_t bytes, std::int64_t count, int iters,
                 double time_s, int world_size, bool correct) {
  BenchRow r;
  r.op = op;
  r.bytes = bytes;
  r.count = count;
  r.iters = iters;
  r.time_s = time_s;
  r.correct = correct;
  if (op != BenchOp::kBarrier) {
    r.algbw_gb_per_s = AlgBandwidthGBps(bytes, time_s);
    r.busbw_gb_per_s = BusBandwidthGBps(op, world_size, bytes, time_s);
  }
  return r;
}

std::string TableHeader(const BenchReport& report) {
  std::string out = "# " + report.tool + " bench comm: backend " +
                    report.backend + ", " + std::to_string(report.world_size) +
                    (report.world_size == 1 ? " rank, " : " ranks, ") +
                    report.dtype + " on " + report.device + "\n";
  if (report.policy.fixed_iters > 0) {
    out += "# iterations: " + std::to_string(report.policy.fixed_iters) +
           " timed per row, after a checked run and a timed estimate\n";
  } else {
    out += StrFormat(
        "# iterations: until %.3g s measured, at least %d, after a checked "
        "run and a timed estimate\n",
        report.policy.target_seconds, report.policy.min_iters);
  }
  out +=
      "# time: per op, mean over ranks; algbw = size/time; busbw = algbw x "
      "2(n-1)/n all_reduce, (n-1)/n all_gather reduce_scatter, 1 broadcast "
      "(nccl-tests)\n#\n";
  out += StrFormat("#%*s%*s%*s%*s%*s%*s%*s%*s\n", kOpWidth - 1, "op",
                   kSizeWidth, "size(B)", kCountWidth, "count", kItersWidth,
                   "iters", kTimeWidth, "time(us)", kBwWidth + 1, "algbw(GB/s)",
                   kBwWidth + 1, "busbw(GB/s)", kCorrectWidth + 1, "correct");
  return out;
}

std::string TableRow(const BenchRow& row) {
  const bool bw = row.op != BenchOp::kBarrier;
  const std::string algbw = bw ? StrFormat("%.3f", row.algbw_gb_per_s) : "-";
  const std::string busbw = bw ? StrFormat("%.3f", row.busbw_gb_per_s) : "-";
  return StrFormat(
      "%*s%*lld%*lld%*d%*.2f%*s%*s%*s\n", kOpWidth, BenchOpName(row.op),
      kSizeWidth, static_cast<long long>(row.bytes), kCountWidth,
      static_cast<long long>(row.count), kItersWidth, row.iters, kTimeWidth,
      row.time_s * 1e6, kBwWidth + 1, algbw.c_str(), kBwWidth + 1,
      busbw.c_str(), kCorrectWidth + 1, row.correct ? "ok" : "WRONG");
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
      .Key("fixed_iters")
      .Int(report.policy.fixed_iters)
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
        .Key("time_us")
        .Number(r.time_s * 1e6);
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
