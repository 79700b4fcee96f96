// The MPI launch mode end to end: build/bin/dstrain (and
// dstrain-worker) started by a real `mpirun` on loopback, no coordinator and
// no MASTER_ADDR: the example trains and exits 0 with falling loss; gloo and
// mpi give the same losses step by step; `backend: auto` picks mpi under
// mpirun; and the places that cannot run backend mpi say how to launch it.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::Num;
using testing::ReadJsonLines;
using testing::Str;
using testing::Subprocess;

const std::string kBin = std::string(DSTRAIN_BINARY_DIR) + "/bin/";
const std::string kSource = DSTRAIN_SOURCE_DIR;

// As root if need be, more ranks than cores, loopback only.
std::vector<std::string> Mpirun(int np) {
  return {DSTRAIN_MPIEXEC,
          "--allow-run-as-root",
          "--oversubscribe",
          "--mca",
          "btl",
          "self,tcp",
          "--mca",
          "btl_tcp_if_include",
          "lo",
          "--mca",
          "oob_tcp_if_include",
          "lo",
          "-np",
          std::to_string(np)};
}

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

// Runs argv to completion; on a hang, SIGTERM (mpirun passes it to its
// ranks), then the Subprocess destructor's SIGKILL of the group.
Outcome RunToEnd(std::vector<std::string> argv,
                 std::chrono::milliseconds timeout) {
  testing::SubprocessOptions o;
  o.argv = std::move(argv);
  std::string error;
  std::unique_ptr<Subprocess> p = Subprocess::Start(o, &error);
  EXPECT_NE(p, nullptr) << error;
  if (p == nullptr) return {};
  std::optional<int> status = p->Wait(timeout);
  if (!status.has_value()) {
    ADD_FAILURE() << "did not finish within " << timeout.count() << " ms";
    p->Signal(SIGTERM);
    status = p->Wait(15s);
  }
  Outcome r;
  if (status.has_value()) r.exit_code = testing::ShellExitCode(*status);
  r.out = p->Stdout();
  r.err = p->Stderr();
  return r;
}

// One rank's metrics file: the step losses in order and the result line.
struct RankMetrics {
  std::vector<double> losses;
  std::string param_digest;
  int result_lines = 0;
};

RankMetrics ReadRank(const fs::path& file, int rank) {
  RankMetrics m;
  for (const Struct& s : ReadJsonLines(file)) {
    EXPECT_EQ(Num(s, "rank"), rank) << file;
    if (Str(s, "type") == "step") {
      EXPECT_EQ(Num(s, "step"), m.losses.size() + 1) << file;
      m.losses.push_back(Num(s, "loss"));
    } else if (Str(s, "type") == "result") {
      ++m.result_lines;
      m.param_digest = Str(s, "param_digest");
    }
  }
  return m;
}

std::string TinyJob(const std::string& name, const std::string& backend) {
  return "name: " + name +
         "\n"
         "device: cpu\n"
         "backend: " +
         backend +
         "\n"
         "model: {type: gpt, vocab: 256, layers: 1, d_model: 32, heads: 2, "
         "seq_len: 32}\n"
         "data: {type: text, path: /usr/share/games/fortunes}\n"
         "train:\n"
         "  steps: 20\n"
         "  micro_batch: 4\n"
         "  optimizer: {type: adamw, lr: 1.0e-2}\n"
         "  schedule: {type: constant}\n";
}

class MpirunTest : public testing::DstrainTest {
 protected:
  std::string WriteJob(const std::string& name, const std::string& backend) {
    const fs::path p = dir_ / (name + ".yaml");
    std::ofstream(p) << TinyJob(name, backend);
    return p.string();
  }
};

TEST_F(MpirunTest, FourRanksTrainTheExampleWithNoCoordinator) {
  std::vector<std::string> argv = Mpirun(4);
  for (const std::string& a :
       {kBin + "dstrain", std::string("worker"), std::string("--job"),
        kSource + "/configs/examples/charlm.yaml", std::string("--set"),
        std::string("train.steps=30"), std::string("--metrics-file"),
        (dir_ / "m{rank}.jsonl").string()}) {
    argv.push_back(a);
  }
  const Outcome r = RunToEnd(argv, 240s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("MPI launch by mpirun"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 ranks, backend gloo"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dstrain worker: done, 30 steps"), std::string::npos)
      << r.out;

  std::vector<RankMetrics> ranks;
  for (int rank = 0; rank < 4; ++rank) {
    ranks.push_back(
        ReadRank(dir_ / ("m" + std::to_string(rank) + ".jsonl"), rank));
    ASSERT_EQ(ranks.back().losses.size(), 30u) << "rank " << rank;
    EXPECT_EQ(ranks.back().result_lines, 1) << "rank " << rank;
  }
  // Every rank reports the same (global) loss and ends with the same
  // parameters.
  for (int rank = 1; rank < 4; ++rank) {
    EXPECT_EQ(ranks[rank].losses, ranks[0].losses) << "rank " << rank;
    EXPECT_EQ(ranks[rank].param_digest, ranks[0].param_digest);
  }
  const std::vector<double>& loss = ranks[0].losses;
  EXPECT_GT(loss.front(), 5.0);  // ln 256 = 5.55 at the start
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) {
    first += loss[i] / 5;
    last += loss[loss.size() - 1 - i] / 5;
  }
  EXPECT_LT(last, first - 1.0)
      << "first five " << first << ", last five " << last;
}

TEST_F(MpirunTest, GlooAndMpiGiveTheSameLossesStepByStep) {
  const std::string job = WriteJob("same", "gloo");
  std::map<std::string, RankMetrics> by_backend[2];
  for (const std::string backend : {"gloo", "mpi"}) {
    // dstrain-worker for one run, dstrain worker for the other: both are
    // the same RunWorkerCommand, and both take --metrics-file.
    std::vector<std::string> argv = Mpirun(2);
    const fs::path metrics = dir_ / (backend + ".jsonl");
    if (backend == "gloo") {
      for (const std::string& a :
           {kBin + "dstrain-worker", job, std::string("--metrics-file"),
            metrics.string()}) {
        argv.push_back(a);
      }
    } else {
      for (const std::string& a :
           {kBin + "dstrain", std::string("worker"), std::string("--job"), job,
            std::string("--set"), "backend=" + backend,
            std::string("--metrics-file"), metrics.string()}) {
        argv.push_back(a);
      }
    }
    const Outcome r = RunToEnd(argv, 180s);
    ASSERT_EQ(r.exit_code, 0) << backend << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("2 ranks, backend " + backend), std::string::npos)
        << r.out;
    for (int rank = 0; rank < 2; ++rank) {
      // No {rank} in the path: each rank appends .rank<N>.
      by_backend[backend == "mpi"][backend + std::to_string(rank)] =
          ReadRank(metrics.string() + ".rank" + std::to_string(rank), rank);
    }
  }
  const std::vector<double>& gloo = by_backend[0]["gloo0"].losses;
  const std::vector<double>& mpi = by_backend[1]["mpi0"].losses;
  ASSERT_EQ(gloo.size(), 20u);
  ASSERT_EQ(mpi.size(), 20u);
  EXPECT_EQ(by_backend[1]["mpi1"].losses, mpi);
  for (std::size_t i = 0; i < gloo.size(); ++i) {
    EXPECT_LE(std::fabs(gloo[i] - mpi[i]), 1e-6 * std::fabs(gloo[i]))
        << "step " << i + 1 << ": gloo " << gloo[i] << ", mpi " << mpi[i];
  }
  EXPECT_LT(mpi.back(), mpi.front()) << "it trains";
}

TEST_F(MpirunTest, AutoMeansMpiUnderMpirun) {
  const std::string job = WriteJob("auto", "auto");
  std::vector<std::string> argv = Mpirun(2);
  for (const std::string& a :
       {kBin + "dstrain", std::string("worker"), std::string("--job"), job,
        std::string("--set"), std::string("train.steps=3")}) {
    argv.push_back(a);
  }
  const Outcome r = RunToEnd(argv, 180s);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2 ranks, backend mpi"), std::string::npos) << r.out;
  // No metrics fd and no file: rank 0 prints a progress line per step.
  EXPECT_NE(r.out.find("step 3/3 loss"), std::string::npos) << r.out;
}

TEST_F(MpirunTest, ABadJobFileIsExitTwoAndOneErrorLine) {
  const fs::path bad = dir_ / "bad.yaml";
  std::ofstream(bad) << "name: bad\ndata: {path: /usr/share/games/fortunes}\n"
                        "model: {layerz: 2}\n";
  std::vector<std::string> argv = Mpirun(2);
  for (const std::string& a : {kBin + "dstrain", std::string("worker"),
                               std::string("--job"), bad.string()}) {
    argv.push_back(a);
  }
  const Outcome r = RunToEnd(argv, 120s);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  const std::string needle = "bad.yaml:3:";
  const std::size_t at = r.err.find(needle);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(needle, at + 1), std::string::npos)
      << "printed by more than one rank:\n"
      << r.err;
}

TEST_F(MpirunTest, BackendMpiWithoutMpirunSaysHowToLaunch) {
  const std::string job = WriteJob("nompi", "mpi");
  const Outcome worker = RunToEnd(
      {kBin + "dstrain", "worker", "--job", job, "--set", "train.steps=1"},
      60s);
  EXPECT_EQ(worker.exit_code, 2) << worker.out << worker.err;
  EXPECT_NE(worker.err.find("backend mpi needs an MPI launch: mpirun -np N "
                            "dstrain worker --job FILE"),
            std::string::npos)
      << worker.err;

  const Outcome launch = RunToEnd({kBin + "dstrain", "launch", job}, 60s);
  EXPECT_EQ(launch.exit_code, 2) << launch.out << launch.err;
  EXPECT_NE(launch.err.find("backend mpi needs an MPI launch: mpirun -np N "
                            "dstrain worker --job " +
                            job),
            std::string::npos)
      << launch.err;
  EXPECT_FALSE(fs::exists(fs::path("runs") / "nompi")) << "nothing may start";
}

}  // namespace
}  // namespace dstrain
