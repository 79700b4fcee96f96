// `dstrain bench comm` end to end: build/bin/dstrain run as real processes,
// its ranks talking over loopback; what it prints, how it exits, and that
// no rank outlives it (Ctrl-C, a killed rank).

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

#include "tests/util/dstrain_test.h"
#include "tests/util/process_table.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain::cli {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using testing::ParseJson;
using testing::RunResult;
using testing::Subprocess;
using testing::SubprocessOptions;

const std::string kDstrain = std::string(DSTRAIN_BINARY_DIR) + "/bin/dstrain";
constexpr auto kRunTimeout = std::chrono::minutes(3);

SubprocessOptions Command(std::vector<std::string> args,
                          std::vector<std::string> env = {}) {
  SubprocessOptions o;
  o.argv = {kDstrain};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.extra_env = std::move(env);
  return o;
}

TEST(BenchCommTest, TwoLocalRanksReportEveryRowCorrectAsJson) {
  RunResult r = dstrain::testing::Run(
      Command({"bench", "comm", "--ranks", "2", "--max-bytes", "4K", "--json"}),
      kRunTimeout);
  ASSERT_FALSE(r.timed_out) << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Struct report = ParseJson(r.out);
  EXPECT_EQ(report.fields().at("tool").string_value(), "dstrain");
  EXPECT_EQ(report.fields().at("backend").string_value(), "gloo");
  EXPECT_EQ(report.fields().at("world_size").number_value(), 2);
  EXPECT_EQ(report.fields().at("dtype").string_value(), "float32");
  const auto& rows = report.fields().at("rows").list_value().values();
  // 8 B .. 4 KiB by ×4 then 4 KiB itself: 8 32 128 512 2K 4K, for each of
  // four ops, and one barrier row.
  ASSERT_EQ(rows.size(), 4 * 6 + 1);
  std::set<std::string> ops;
  std::set<double> sizes;
  for (const Value& v : rows) {
    const auto& row = v.struct_value().fields();
    const std::string op = row.at("op").string_value();
    ops.insert(op);
    EXPECT_TRUE(row.at("correct").bool_value()) << op;
    EXPECT_GT(row.at("time_us").number_value(), 0.0) << op;
    // At least 5 repeats of at least 3 runs each, all of them counted; the
    // median between the fastest and the slowest repeat.
    const double repeats = row.at("repeats").number_value();
    const double iters = row.at("iters").number_value();
    EXPECT_GE(repeats, 5) << op;
    EXPECT_GE(iters, 3 * repeats) << op;
    EXPECT_EQ(std::fmod(iters, repeats), 0) << op;
    EXPECT_LE(row.at("time_min_us").number_value(),
              row.at("time_us").number_value());
    EXPECT_LE(row.at("time_us").number_value(),
              row.at("time_max_us").number_value());
    if (op == "barrier") continue;
    sizes.insert(row.at("bytes").number_value());
    // busbw = algbw × factor; 2 ranks: all-reduce 1, gather/scatter 1/2.
    const double factor = op == "all_reduce" || op == "broadcast" ? 1.0 : 0.5;
    EXPECT_NEAR(row.at("busbw_gb_per_s").number_value(),
                row.at("algbw_gb_per_s").number_value() * factor, 1e-12);
    EXPECT_NEAR(row.at("algbw_gb_per_s").number_value(),
                row.at("bytes").number_value() /
                    (row.at("time_us").number_value() * 1e-6) / 1e9,
                1e-9);
  }
  EXPECT_EQ(ops,
            (std::set<std::string>{"all_reduce", "all_gather", "reduce_scatter",
                                   "broadcast", "barrier"}));
  EXPECT_EQ(sizes, (std::set<double>{8, 32, 128, 512, 2048, 4096}));
  // Not a terminal: no progress line on stderr either.
  EXPECT_EQ(r.err.find("bench comm: row"), std::string::npos) << r.err;
}

TEST(BenchCommTest, TheTableHasAHeaderAlignedRowsAndAFooter) {
  RunResult r = dstrain::testing::Run(
      Command({"bench", "comm", "--ranks", "3", "--max-bytes", "512", "--ops",
               "reduce_scatter", "--iters", "5"}),
      kRunTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 5u + 4 + 1) << r.out;
  EXPECT_NE(lines[0].find("backend gloo, 3 ranks, float32 on cpu"),
            std::string::npos)
      << lines[0];
  // The header says what the iters and reps columns then hold.
  EXPECT_NE(lines[1].find("then 5 repeats of 5 timed runs: iters = 25, reps "
                          "= 5"),
            std::string::npos)
      << lines[1];
  for (int i = 5; i < 9; ++i) {
    EXPECT_EQ(lines[i].size(), lines[4].size()) << lines[i];
    EXPECT_NE(lines[i].find("reduce_scatter"), std::string::npos);
    EXPECT_EQ(lines[i].substr(lines[i].size() - 2), "ok");
    std::istringstream row(lines[i]);
    std::string op, bytes, count, iters, reps;
    double time = 0, min = 0, max = 0;
    row >> op >> bytes >> count >> iters >> reps >> time >> min >> max;
    EXPECT_EQ(iters, "25") << lines[i];
    EXPECT_EQ(reps, "5") << lines[i];
    EXPECT_LE(min, time) << lines[i];
    EXPECT_LE(time, max) << lines[i];
  }
  // 8 B of float32 over 3 ranks: one float each, 12 B in all.
  std::istringstream first(lines[5]);
  std::string op, bytes;
  first >> op >> bytes;
  EXPECT_EQ(bytes, "12");
  EXPECT_EQ(lines[9].rfind("# all 4 rows correct", 0), 0u) << lines[9];
}

// Runs dstrain with stdout on a pipe and stderr on a pseudo-terminal, as a
// person who redirects the JSON to a file sees it; returns after the
// command and every rank it started have closed both.
struct TtyRun {
  int exit_code = -1;
  std::string out;  // the pipe
  std::string tty;  // what the terminal was sent
};

TtyRun RunWithStderrOnATerminal(const std::vector<std::string>& args) {
  TtyRun r;
  int master = -1, slave = -1;
  if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) {
    ADD_FAILURE() << "openpty: " << std::strerror(errno);
    return r;
  }
  int out[2];
  if (::pipe(out) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return r;
  }
  std::vector<std::string> argv = {kDstrain};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> ptrs;
  for (std::string& a : argv) ptrs.push_back(a.data());
  ptrs.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(slave, STDERR_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    ::close(master);
    ::close(slave);
    ::execv(ptrs[0], ptrs.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(slave);
  // Both ends are read until they close (EOF on the pipe, EIO on the
  // terminal once no process holds it), or the deadline passes.
  const auto deadline = std::chrono::steady_clock::now() + kRunTimeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {master, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.tty};
  int open_ends = 2;
  while (open_ends > 0 && std::chrono::steady_clock::now() < deadline) {
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_ends;
      }
    }
  }
  if (open_ends > 0) {
    ::kill(pid, SIGKILL);
    ADD_FAILURE() << "dstrain did not finish";
  }
  for (pollfd& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = testing::ShellExitCode(status);
  return r;
}

// On a terminal, stderr shows which row is being measured; stdout, here
// JSON, stays one clean object.
TEST(BenchCommTest, ATerminalSeesProgressAndTheJsonStaysClean) {
  const TtyRun r = RunWithStderrOnATerminal(
      {"bench", "comm", "--ranks", "2", "--max-bytes", "512", "--ops",
       "all_reduce,barrier", "--iters", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.tty;
  // 8 32 128 512, then the barrier: 5 rows.
  for (const char* part : {"bench comm: row 1/5, all_reduce 8 B",
                           "bench comm: row 4/5, "
                           "all_reduce 512 B",
                           "bench comm: row 5/5, barrier"}) {
    EXPECT_NE(r.tty.find(part), std::string::npos) << part << "\n" << r.tty;
  }
  EXPECT_EQ(r.out.find("bench comm: row"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << r.out;
  const Struct report = ParseJson(r.out);
  EXPECT_EQ(report.fields().at("rows").list_value().values_size(), 5);
}

TEST(BenchCommTest, WithBackendMpiTheRanksRunUnderMpirun) {
#ifndef DSTRAIN_HAVE_MPI
  GTEST_SKIP() << "this build has no MPI";
#endif
  RunResult r = dstrain::testing::Run(
      Command({"bench", "comm", "--ranks", "3", "--backend", "mpi",
               "--max-bytes", "1K", "--iters", "3", "--json"}),
      kRunTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Struct report = ParseJson(r.out);
  EXPECT_EQ(report.fields().at("backend").string_value(), "mpi");
  EXPECT_EQ(report.fields().at("world_size").number_value(), 3);
  const auto& rows = report.fields().at("rows").list_value().values();
  ASSERT_EQ(rows.size(), 4 * 5 + 1);  // 8 32 128 512 1K
  for (const Value& v : rows) {
    EXPECT_TRUE(v.struct_value().fields().at("correct").bool_value())
        << v.struct_value().fields().at("op").string_value();
  }
}

TEST(BenchCommTest, AloneItIsAGroupOfOne) {
  RunResult r = dstrain::testing::Run(
      Command({"bench", "comm", "--max-bytes", "64", "--ops",
               "all_gather,broadcast", "--json"}),
      kRunTimeout);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Struct report = ParseJson(r.out);
  EXPECT_EQ(report.fields().at("world_size").number_value(), 1);
  EXPECT_EQ(report.fields().at("rows").list_value().values_size(), 2 * 3);
}

TEST(BenchCommTest, BadArgumentsNameTheFlagAndStartNothing) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  } cases[] = {
      {{"--max-bytes", "4X"}, "--max-bytes: `4X` has an unknown unit"},
      {{"--ops", "all_reduce,gather"}, "--ops: unknown collective `gather`"},
      {{"--backend", "ucc"},
       "--backend: `ucc` is not one of gloo, mpi, nccl, auto"},
      {{"--dtype", "complex64"}, "--dtype: unknown dtype `complex64`"},
      {{"--min-bytes", "1M", "--max-bytes", "4K"}, "is above the largest"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"bench", "comm", "--ranks", "2"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = dstrain::testing::Run(Command(args), kRunTimeout);
    EXPECT_EQ(r.exit_code, 2) << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(BenchCommTest, RanksInsideALaunchedJobIsRefused) {
  RunResult r = dstrain::testing::Run(
      Command({"bench", "comm", "--ranks", "2"}, {"RANK=0", "WORLD_SIZE=2"}),
      kRunTimeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("drop --ranks"), std::string::npos) << r.err;
}

TEST(BenchCommTest, WithoutARendezvousARankSaysWhatIsMissing) {
  RunResult r =
      dstrain::testing::Run(Command({"bench", "comm", "--max-bytes", "64"},
                                    {"RANK=1", "WORLD_SIZE=2"}),
                            kRunTimeout);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("set MASTER_ADDR and MASTER_PORT"), std::string::npos)
      << r.err;
}

// A sweep long enough to interrupt: 64 MiB all-gathers, many of them.
std::unique_ptr<Subprocess> StartLongSweep() {
  std::string error;
  auto sp =
      Subprocess::Start(Command({"bench", "comm", "--ranks", "2", "--min-bytes",
                                 "64M", "--max-bytes", "64M", "--ops",
                                 "all_gather", "--iters", "100000"}),
                        &error);
  EXPECT_NE(sp, nullptr) << error;
  return sp;
}

// The launcher's children once both ranks run and rank 0 has printed its
// header (so the group has formed).
std::vector<testing::ProcInfo> RanksOf(Subprocess& sp) {
  std::vector<testing::ProcInfo> ranks;
  const bool formed = testing::WaitFor(
      [&] {
        ranks = testing::ChildrenOf(sp.pid());
        return ranks.size() == 2 &&
               sp.Stdout().find("# dstrain bench comm") != std::string::npos;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(formed) << sp.Stderr();
  return ranks;
}

TEST(BenchCommTest, CtrlCStopsEveryRankAndExits130) {
  auto sp = StartLongSweep();
  ASSERT_NE(sp, nullptr);
  const std::vector<testing::ProcInfo> ranks = RanksOf(*sp);
  ASSERT_EQ(ranks.size(), 2u);
  const pid_t group = ranks[0].pgid;
  EXPECT_NE(group, sp->pid());  // the ranks have a group of their own
  sp->Signal(SIGINT);
  const std::optional<int> status = sp->Wait(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "the launcher did not stop";
  EXPECT_EQ(testing::ShellExitCode(*status), 130) << sp->Stderr();
  EXPECT_TRUE(testing::ProcessesInGroup(group).empty())
      << testing::Describe(testing::ProcessesInGroup(group));
  EXPECT_TRUE(testing::ChildrenOf(sp->pid()).empty());
}

TEST(BenchCommTest, AKilledRankStopsTheOthersAndIsNamed) {
  auto sp = StartLongSweep();
  ASSERT_NE(sp, nullptr);
  const std::vector<testing::ProcInfo> ranks = RanksOf(*sp);
  ASSERT_EQ(ranks.size(), 2u);
  // Rank 1 is the child whose environment says so.
  pid_t rank1 = -1;
  for (const testing::ProcInfo& p : ranks) {
    if (testing::EnvironOf(p.pid, "RANK") == "1") rank1 = p.pid;
  }
  ASSERT_GT(rank1, 0);
  ASSERT_EQ(::kill(rank1, SIGKILL), 0);
  const std::optional<int> status = sp->Wait(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << "the launcher did not stop";
  EXPECT_EQ(testing::ShellExitCode(*status), 128 + SIGKILL);
  EXPECT_NE(sp->Stderr().find("rank 1 was killed by SIGKILL; stopped the "
                              "others"),
            std::string::npos)
      << sp->Stderr();
  EXPECT_TRUE(testing::ProcessesInGroup(ranks[0].pgid).empty());
}

}  // namespace
}  // namespace dstrain::cli
