// Several hosts for real: a coordinator and two agents in three network
// namespaces on one bridge (tests/util/netns.h), each with its own 10.x
// address. A 2-node x 2-rank job trains across them with the losses of the
// same job on one host, and a node whose link goes down is declared lost
// within three heartbeats. Skips (with the reason) where namespaces cannot
// be made; CI runs as root and makes them.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <regex>

#include "tests/util/dstrain_test.h"
#include "tests/util/netns.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::Num;
using testing::ReadJsonLines;
using testing::WaitFor;

std::string Job(const std::string& name, int nodes, int ppn, int steps) {
  return testing::TinyJobYaml(name, steps, ppn) +
         "nodes: {min: " + std::to_string(nodes) +
         ", max: " + std::to_string(nodes) + "}\n";
}

class NetnsLaunchTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    std::string why;
    hosts_ = testing::NetnsHosts::Create(3, &why);
    if (!hosts_) GTEST_SKIP() << "no network namespaces here: " << why;
    token_ = WriteTokenFile("token", "netns-test-token");
    coordinator_ = hosts_->Address(0) + ":7000";
    coord_ = In(
        0, {"coordinator", "--listen", coordinator_, "--token-file", token_});
    ASSERT_TRUE(coord_);
    ASSERT_TRUE(WaitFor(
        [&] {
          return coord_->Stdout().find("listening on") != std::string::npos;
        },
        30s))
        << coord_->Stderr();
    for (int i : {1, 2}) {
      // No --listen: each agent listens on its address toward the
      // coordinator, the one the other namespaces reach.
      agents_.push_back(
          In(i, {"agent", "--coordinator", coordinator_, "--token-file", token_,
                 "--hostname", "node-" + std::to_string(i)}));
      ASSERT_TRUE(agents_.back());
      ASSERT_TRUE(WaitFor(
          [&] {
            return agents_.back()->Stdout().find(
                       "serving on " + hosts_->Address(i)) != std::string::npos;
          },
          30s))
          << agents_.back()->Stdout() << agents_.back()->Stderr();
    }
  }

  // `dstrain <args>` inside host i.
  std::unique_ptr<testing::Subprocess> In(
      int i, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {testing::DstrainBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::SubprocessOptions o;
    o.argv = hosts_->In(i, argv);
    o.working_dir = dir_.string();
    std::string error;
    auto sp = testing::Subprocess::Start(o, &error);
    EXPECT_TRUE(sp != nullptr) << error;
    return sp;
  }

  std::unique_ptr<testing::Subprocess> Launch(const std::string& job,
                                              const fs::path& run_dir) {
    return In(0, {"launch", job, "--coordinator", coordinator_, "--token-file",
                  token_, "--run-dir", run_dir.string()});
  }

  void TearDown() override {
    agents_.clear();
    coord_.reset();
    hosts_.reset();
    DstrainTest::TearDown();
  }

  std::unique_ptr<testing::NetnsHosts> hosts_;
  std::string token_, coordinator_;
  std::unique_ptr<testing::Subprocess> coord_;
  std::vector<std::unique_ptr<testing::Subprocess>> agents_;
};

std::vector<double> Losses(const fs::path& run_dir) {
  std::vector<double> out;
  for (const Struct& line : ReadJsonLines(run_dir / "metrics.jsonl")) {
    out.push_back(Num(line, "loss"));
  }
  return out;
}

TEST_F(NetnsLaunchTest, TwoNodesTrainAcrossHostsWithTheLossesOfOneHost) {
  const std::string job = WriteFile("two.yaml", Job("two", 2, 2, 8));
  const fs::path run_dir = dir_ / "two";
  auto launch = Launch(job, run_dir);
  ASSERT_TRUE(launch);
  auto st = launch->Wait(240s);
  ASSERT_TRUE(st.has_value()) << launch->Stderr();
  ASSERT_EQ(testing::ShellExitCode(*st), 0)
      << launch->Stdout() << launch->Stderr();

  // All four ranks, two on each host, ended with the same parameters.
  const Struct summary = testing::ReadJsonFile(run_dir / "summary.json");
  EXPECT_TRUE(summary.fields().at("param_digests_agree").bool_value());
  // The same 4 ranks on one host (embedded launch, no namespaces).
  const fs::path one =
      LaunchToSuccess(WriteFile("one.yaml", Job("one", 1, 4, 8)), "one");
  const std::vector<double> across = Losses(run_dir), here = Losses(one);
  ASSERT_EQ(across.size(), 8u);
  ASSERT_EQ(here.size(), 8u);
  for (std::size_t i = 0; i < across.size(); ++i) {
    EXPECT_NEAR(across[i], here[i], 1e-5 * std::abs(here[i]))
        << "step " << i + 1;
  }
}

TEST_F(NetnsLaunchTest, ANodeWhoseLinkGoesDownIsLostWithinThreeHeartbeats) {
  const std::string job = WriteFile("long.yaml", Job("long", 2, 2, 1000000));
  const fs::path run_dir = dir_ / "long";
  auto launch = Launch(job, run_dir);
  ASSERT_TRUE(launch);
  ASSERT_TRUE(WaitFor(
      [&] { return ReadJsonLines(run_dir / "metrics.jsonl").size() >= 3; },
      120s))
      << launch->Stdout() << launch->Stderr();

  ASSERT_TRUE(hosts_->SetLinkUp(2, false));
  const auto cut = std::chrono::steady_clock::now();
  // The coordinator's heartbeat is 2 s and a node is lost after 3 missed:
  // the job must fail on it by then (plus one poll of the launcher).
  auto st = launch->Wait(60s);
  const double after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - cut)
          .count();
  ASSERT_TRUE(st.has_value()) << "the job outlived its lost node";
  EXPECT_NE(testing::ShellExitCode(*st), 0);
  const std::string err = launch->Stderr();
  EXPECT_NE(err.find("node node-2 stopped heartbeating"), std::string::npos)
      << err;
  EXPECT_LE(after, 3 * 2.0 + 2.0) << err;
}

// `dstrain logs JOB --rank 3 --follow`, run on the coordinator's host,
// streams what rank 3 writes on node-2 as it writes it; and the launch
// following the job shows the other nodes' worker lines too.
TEST_F(NetnsLaunchTest, ARanksLogsStreamFromAnotherNode) {
  const std::string job =
      WriteFile("logs.yaml", testing::TinyJobYaml("logs", 1000000, 2) +
                                 "  log_every: 5\nnodes: {min: 2, max: 2}\n");
  const fs::path run_dir = dir_ / "logs";
  auto launch = Launch(job, run_dir);
  ASSERT_TRUE(launch);
  std::string job_id;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto jobs = In(0, {"jobs", "--json", "--coordinator", coordinator_,
                           "--token-file", token_});
        if (!jobs || !jobs->Wait(30s)) return false;
        const Struct all = testing::ParseJson(jobs->Stdout());
        const auto& list = all.fields().at("jobs").list_value();
        if (list.values_size() == 0) return false;
        job_id = testing::Str(list.values(0).struct_value(), "job_id");
        return !job_id.empty();
      },
      60s));
  auto follow = In(0, {"logs", job_id, "--rank", "3", "--follow",
                       "--coordinator", coordinator_, "--token-file", token_});
  ASSERT_TRUE(follow);
  const auto last_step = [](const std::string& out) {
    int best = -1;
    for (std::size_t at = out.find("[rank 3 node-2] step ");
         at != std::string::npos;
         at = out.find("[rank 3 node-2] step ", at + 1)) {
      best = std::max(best, std::atoi(out.c_str() + at + 21));
    }
    return best;
  };
  ASSERT_TRUE(WaitFor([&] { return last_step(follow->Stdout()) > 0; }, 120s))
      << follow->Stdout() << follow->Stderr();
  const int seen = last_step(follow->Stdout());
  ASSERT_TRUE(
      WaitFor([&] { return last_step(follow->Stdout()) >= seen + 10; }, 60s))
      << "no new lines streamed after step " << seen << ":\n"
      << follow->Stdout() << follow->Stderr();
  EXPECT_EQ(follow->Stdout().find("[rank 2 "), std::string::npos)
      << "--rank 3 shows only rank 3";
  // The launch following the job relays node-2's workers' lines as well.
  ASSERT_TRUE(WaitFor(
      [&] {
        return (launch->Stdout() + launch->Stderr())
                   .find("[rank 3 node-2] step") != std::string::npos;
      },
      30s))
      << launch->Stdout() << launch->Stderr();
  auto cancel = In(0, {"cancel", job_id, "--coordinator", coordinator_,
                       "--token-file", token_});
  ASSERT_TRUE(cancel);
  EXPECT_TRUE(cancel->Wait(30s).has_value());
  // --follow ends once the job has ended.
  EXPECT_TRUE(follow->Wait(30s).has_value())
      << "logs --follow outlived the job";
  EXPECT_TRUE(launch->Wait(60s).has_value());
}

}  // namespace
}  // namespace dstrain
