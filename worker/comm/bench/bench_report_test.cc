#include "worker/comm/bench/bench_report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace dstrain::comm::bench {
namespace {

BenchReport Sample() {
  BenchReport r;
  r.backend = "gloo";
  r.world_size = 4;
  r.rows.push_back(MakeRow(BenchOp::kAllReduce, 8, 2, 4000,
                           {52e-6, 50e-6, 433e-6, 49e-6, 61e-6}, 4, true));
  r.rows.push_back(MakeRow(BenchOp::kAllGather, 268435456, 67108864, 15,
                           {1.25, 1.5, 1.0, 1.25, 1.25}, 4, true));
  r.rows.push_back(MakeRow(BenchOp::kBarrier, 0, 0, 1000,
                           {20e-6, 20e-6, 20e-6, 20e-6, 20e-6}, 4, true));
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(BenchReportTest, MakeRowAppliesTheNcclTestsDefinitions) {
  const BenchRow r =
      MakeRow(BenchOp::kAllReduce, 1000000000, 250000000, 3, {2.0}, 4, true);
  EXPECT_DOUBLE_EQ(r.algbw_gb_per_s, 0.5);
  EXPECT_DOUBLE_EQ(r.busbw_gb_per_s, 0.75);
  const BenchRow b = MakeRow(BenchOp::kBarrier, 0, 0, 3, {1e-5}, 4, true);
  EXPECT_EQ(b.algbw_gb_per_s, 0.0);
  EXPECT_EQ(b.busbw_gb_per_s, 0.0);
}

// Three runs of one row can differ by 3x on a shared machine: a row keeps
// the median repeat and shows the fastest and slowest beside it, and its
// bandwidths come from the median.
TEST(BenchReportTest, RowsCarryTheSpreadOverRepeats) {
  const BenchRow r = MakeRow(BenchOp::kAllReduce, 8, 2, 300,
                             {1142e-6, 433e-6, 1548e-6}, 2, true);
  EXPECT_EQ(r.repeats, 3);
  EXPECT_EQ(r.iters, 300);
  EXPECT_DOUBLE_EQ(r.time_s, 1142e-6);
  EXPECT_DOUBLE_EQ(r.min_time_s, 433e-6);
  EXPECT_DOUBLE_EQ(r.max_time_s, 1548e-6);
  EXPECT_DOUBLE_EQ(r.algbw_gb_per_s, 8 / 1142e-6 / 1e9);
  const Spread even = SpreadOf({4, 1, 3, 2});
  EXPECT_EQ(even.min, 1);
  EXPECT_EQ(even.median, 2.5);
  EXPECT_EQ(even.max, 4);
  EXPECT_EQ(SpreadOf({}).median, 0);
}

TEST(BenchReportTest, TableColumnsLineUpUnderTheirTitles) {
  const BenchReport report = Sample();
  const std::vector<std::string> lines = Lines(FormatTable(report));
  // Header (what ran, iterations, definitions, blank, titles), 3 rows, footer.
  ASSERT_EQ(lines.size(), 9u);
  const std::string& titles = lines[4];
  ASSERT_EQ(titles[0], '#');
  EXPECT_NE(lines[0].find("backend gloo, 4 ranks, float32 on cpu"),
            std::string::npos);
  // Every row as wide as the titles, each value ending where its title ends.
  for (int i = 5; i < 8; ++i) {
    EXPECT_EQ(lines[i].size(), titles.size()) << lines[i];
  }
  auto end_of = [](const std::string& line, const std::string& word) {
    const std::size_t at = line.find(word);
    return at == std::string::npos ? at : at + word.size();
  };
  EXPECT_EQ(end_of(lines[5], "all_reduce"), end_of(titles, "op"));
  EXPECT_EQ(end_of(lines[6], "268435456"), end_of(titles, "size(B)"));
  EXPECT_EQ(end_of(lines[6], "67108864"), end_of(titles, "count"));
  EXPECT_EQ(end_of(lines[5], "4000"), end_of(titles, "iters"));
  EXPECT_EQ(end_of(lines[5], "    5"), end_of(titles, "reps"));
  // The median repeat, then the fastest and the slowest.
  EXPECT_EQ(end_of(lines[5], "52.00"), end_of(titles, "time(us)"));
  EXPECT_EQ(end_of(lines[5], "49.00"), end_of(titles, "min(us)"));
  EXPECT_EQ(end_of(lines[5], "433.00"), end_of(titles, "max(us)"));
  EXPECT_EQ(end_of(lines[6], "1250000.00"), end_of(titles, "time(us)"));
  EXPECT_EQ(end_of(lines[6], "1000000.00"), end_of(titles, "min(us)"));
  EXPECT_EQ(end_of(lines[6], "1500000.00"), end_of(titles, "max(us)"));
  // 256 MiB in 1.25 s: algbw 0.215 GB/s, busbw ×0.75 = 0.161.
  EXPECT_EQ(end_of(lines[6], "0.215"), end_of(titles, "algbw(GB/s)"));
  EXPECT_EQ(end_of(lines[6], "0.161"), end_of(titles, "busbw(GB/s)"));
  EXPECT_EQ(end_of(lines[6], "ok"), end_of(titles, "correct"));
  // The barrier moves no data: no bandwidths.
  EXPECT_NE(lines[7].find("barrier"), std::string::npos);
  EXPECT_EQ(end_of(lines[7], "-"), end_of(titles, "algbw(GB/s)"));
  EXPECT_EQ(lines[8].rfind("# all 3 rows correct; mean busbw", 0), 0u)
      << lines[8];
}

TEST(BenchReportTest, FooterNamesWrongRows) {
  BenchReport report = Sample();
  report.rows[1].correct = false;
  const std::string footer = TableFooter(report);
  EXPECT_EQ(footer.rfind("# 1 of 3 rows WRONG: all_gather 256 MiB", 0), 0u)
      << footer;
  EXPECT_NE(TableRow(report.rows[1]).find("WRONG"), std::string::npos);
}

// The header says how many runs a row times, in the numbers the iters and
// reps columns then show.
TEST(BenchReportTest, TheHeaderSaysWhatTheIterationColumnsHold) {
  BenchReport report = Sample();
  report.policy.fixed_iters = 20;
  EXPECT_NE(TableHeader(report).find("then 5 repeats of 20 timed runs: iters "
                                     "= 100, reps = 5"),
            std::string::npos)
      << TableHeader(report);
  report.policy = IterationPolicy{};
  const std::string adaptive = TableHeader(report);
  for (const char* part :
       {"N = ceil(0.2 / (5 t)) timed runs per repeat, at least 3, at most "
        "20000",
        "min(5, 5 N / 10) warm-ups",
        "then at least 5 repeats of N, more until 0.2 s is measured, at most "
        "100000 runs in all; iters = N x reps",
        "the median repeat"}) {
    EXPECT_NE(adaptive.find(part), std::string::npos) << part << "\n"
                                                      << adaptive;
  }
}

TEST(BenchReportTest, ProgressSaysWhichRowIsMeasured) {
  EXPECT_EQ(ProgressLine(14, 61, BenchOp::kAllGather, 268435456, 12.4),
            "bench comm: row 14/61, all_gather 256 MiB, 12 s");
  EXPECT_EQ(ProgressLine(61, 61, BenchOp::kBarrier, 0, 46),
            "bench comm: row 61/61, barrier, 46 s");
}

TEST(BenchReportTest, JsonHasOneObjectPerRowAndNullBarrierBandwidths) {
  BenchReport report;
  report.backend = "gloo";
  report.world_size = 2;  // all-reduce busbw factor 1: exact decimals
  report.rows.push_back(
      MakeRow(BenchOp::kAllReduce, 8, 2, 4000, {50e-6, 40e-6, 80e-6}, 2, true));
  report.rows.push_back(MakeRow(BenchOp::kBarrier, 0, 0, 7, {2e-5}, 2, false));
  // Keys name their units; time_us is the median repeat.
  EXPECT_EQ(
      ReportJson(report),
      "{\"tool\":\"dstrain\",\"backend\":\"gloo\",\"world_size\":2,"
      "\"dtype\":\"float32\",\"device\":\"cpu\",\"target_seconds\":0.2,"
      "\"min_iters\":3,\"max_iters\":100000,\"fixed_iters\":0,"
      "\"repeats\":5,\"rows\":["
      "{\"op\":\"all_reduce\",\"bytes\":8,\"count\":2,\"iters\":4000,"
      "\"repeats\":3,\"time_us\":50,\"time_min_us\":40,\"time_max_us\":80,"
      "\"algbw_gb_per_s\":0.00016,\"busbw_gb_per_s\":0.00016,"
      "\"correct\":true},"
      "{\"op\":\"barrier\",\"bytes\":0,\"count\":0,\"iters\":7,"
      "\"repeats\":1,\"time_us\":20,\"time_min_us\":20,\"time_max_us\":20,"
      "\"algbw_gb_per_s\":null,\"busbw_gb_per_s\":null,\"correct\":false}]}");
}

}  // namespace
}  // namespace dstrain::comm::bench
