// Several hosts for real: a coordinator and two agents in three network
// namespaces on one bridge (tests/util/netns.h), each with its own 10.x
// address. A 2-node x 2-rank job trains across them with the losses of the
// same job on one host; a node whose link goes down is declared lost
// within three heartbeats; a rank stopped by SIGSTOP is named, with its
// host and the collective the others wait in, within hang_timeout_s + 5 s
// and the job restarts. Skips (with the reason) where namespaces cannot be
// made; CI runs as root and makes them.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <regex>

#include "tests/util/dstrain_test.h"
#include "tests/util/netns_launch_fixture.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using google::protobuf::Struct;
using testing::FindWorker;
using testing::Job;
using testing::Losses;
using testing::NetnsLaunchTest;
using testing::Num;
using testing::ReadJsonLines;
using testing::WaitFor;

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
  WaitForSteps(run_dir, 3, *launch, 120s);
  if (HasFatalFailure()) return;

  ASSERT_TRUE(hosts_->SetLinkUp(2, false));
  const auto cut = std::chrono::steady_clock::now();
  // The coordinator's heartbeat is 1 s and a node is lost after 3 missed:
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
  EXPECT_LE(after, 3 * 1.0 + 2.0) << err;
}

// A rank stopped with SIGSTOP: the others wait for it in a collective and
// nothing moves. Within hang_timeout_s (5 s) + 5 s the coordinator names
// it — rank 3 on node-2, stopped — and the collective the others wait in,
// in `dstrain status` and in the job's events; then the job restarts.
TEST_F(NetnsLaunchTest, AStoppedRankIsNamedWithTheCollectiveTheOthersWaitIn) {
  const std::string job =
      WriteFile("hang.yaml",
                Job("hang", 2, 2, 1000000) +
                    "fault_tolerance: {hang_timeout_s: 5, max_restarts: 1}\n");
  const fs::path run_dir = dir_ / "hang";
  auto launch = Launch(job, run_dir);
  ASSERT_TRUE(launch);
  WaitForSteps(run_dir, 3, *launch, 120s);
  if (HasFatalFailure()) return;
  const pid_t rank3 =
      FindWorker({"RANK=3", "DSTRAIN_NODE_NAME=node-2", "DSTRAIN_ATTEMPT=0",
                  "DSTRAIN_RUN_DIR=" + run_dir.string()});
  ASSERT_GT(rank3, 0) << "rank 3's worker not found in /proc";
  ASSERT_EQ(::kill(rank3, SIGSTOP), 0);
  const auto stopped = std::chrono::steady_clock::now();
  Struct st;
  ASSERT_TRUE(WaitFor(
      [&] {
        st = Status();
        return st.fields().count("hang") != 0;
      },
      60s))
      << launch->Stdout() << launch->Stderr();
  const double after =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped)
          .count();
  EXPECT_LE(after, 5.0 + 5.0);
  const Struct& hang = st.fields().at("hang").struct_value();
  const std::string collective = testing::Str(hang, "collective");
  EXPECT_TRUE(
      std::regex_search(collective, std::regex("^world [a-z-]+ #[0-9]+")))
      << collective;
  const auto& culprits = hang.fields().at("culprits").list_value();
  ASSERT_EQ(culprits.values_size(), 1) << launch->Stderr();
  const Struct& c = culprits.values(0).struct_value();
  EXPECT_EQ(testing::Num(c, "rank"), 3);
  EXPECT_EQ(testing::Str(c, "host"), "node-2");
  EXPECT_EQ(testing::Str(c, "why"), "stopped");
  EXPECT_EQ(testing::Str(c, "process"), "stopped");
  bool event = false;
  for (const auto& e : st.fields().at("events").list_value().values()) {
    const std::string cause = testing::Str(e.struct_value(), "cause");
    event = event ||
            (cause.find("hang: no progress for") != std::string::npos &&
             cause.find("rank 3 on node-2 is stopped") != std::string::npos &&
             cause.find(collective) != std::string::npos);
  }
  EXPECT_TRUE(event) << "no event names the stopped rank and the collective";
  // The job restarts: the stopped worker is killed with the rest and
  // attempt 1 trains.
  ASSERT_TRUE(WaitFor(
      [&] {
        const Struct now = Status();
        return now.fields().count("attempt") != 0 &&
               testing::Num(now, "attempt") == 1 &&
               testing::Str(now, "state") == "JOB_RUNNING" &&
               now.fields().at("latest").list_value().values_size() > 0;
      },
      120s))
      << launch->Stdout() << launch->Stderr();
  auto cancel = In(0, {"cancel", job_id_, "--coordinator", coordinator_,
                       "--token-file", token_});
  ASSERT_TRUE(cancel);
  EXPECT_TRUE(cancel->Wait(30s).has_value());
  EXPECT_TRUE(launch->Wait(60s).has_value());
}

// Stragglers: ranks slowed on purpose (DSTRAIN_FAULT_INJECT delays inside
// their steps) are reported by the coordinator in the job's events: one
// by its host; two on different hosts under one leaf switch (a cluster
// description puts node-1 and node-2 on leaf0) by that leaf.
class NetnsStragglerTest : public NetnsLaunchTest {
 protected:
  // Runs a 2 x 3-rank job with `extra` job keys until a straggler event
  // appears; returns its cause ("" when none within the deadline).
  std::string StragglerEvent(const std::string& extra) {
    const std::string job = WriteFile(
        "slow.yaml", Job("slow", 2, 3, 1000000) +
                         "fault_tolerance: {straggler_window_steps: 10}\n" +
                         extra);
    auto launch = Launch(job, dir_ / "slow");
    if (!launch) return "";
    std::string cause;
    WaitFor(
        [&] {
          auto jobs = In(0, {"events", "--json", "--coordinator", coordinator_,
                             "--token-file", token_});
          if (!jobs || !jobs->Wait(30s)) return false;
          const std::string out = jobs->Stdout();
          const std::size_t at = out.find("straggler: ");
          if (at == std::string::npos) return false;
          cause = out.substr(at, out.find('"', at) - at);
          return true;
        },
        120s);
    if (cause.empty()) {
      ADD_FAILURE() << "no straggler event; the launch said:\n"
                    << launch->Stdout() << launch->Stderr()
                    << "\nthe coordinator said:\n"
                    << coord_->Stdout() << coord_->Stderr();
    }
    launch.reset();  // the job ends with the agents at teardown
    return cause;
  }
};

// Rank 4 (node-2) slowed.
class NetnsOneStragglerTest : public NetnsStragglerTest {
  std::vector<std::string> AgentEnv() const override {
    return {"DSTRAIN_FAULT_INJECT=delay:rank=4,seconds=0.1"};
  }
};

// Rank 1 (node-1) and rank 4 (node-2) slowed.
class NetnsLeafStragglerTest : public NetnsStragglerTest {
  std::vector<std::string> AgentEnv() const override {
    return {
        "DSTRAIN_FAULT_INJECT=delay:rank=1,seconds=0.1;"
        "delay:rank=4,seconds=0.1"};
  }
};

TEST_F(NetnsOneStragglerTest, ASlowedRankIsReportedWithItsHost) {
  const std::string cause = StragglerEvent("");
  EXPECT_NE(cause.find("straggler: rank 4 on node-2: "), std::string::npos)
      << cause;
}

TEST_F(NetnsLeafStragglerTest, TwoSlowedRanksUnderOneLeafAreReportedAsTheLeaf) {
  WriteFile("leaf.yaml",
            "name: one-leaf\n"
            "fabric: {kind: fat-tree, k: 8, levels: 2, oversubscription: 1}\n"
            "defaults: {devices: 3}\n"
            "switches:\n"
            "  - {name: \"leaf[0-1]\", level: 0}\n"
            "  - {name: spine0, level: 1}\n"
            "hosts:\n"
            "  - {name: \"node-1,node-2\", leaf: leaf0}\n"
            "  - {name: \"spare[0-1]\", leaf: leaf1}\n"
            "links:\n"
            "  - {a: \"leaf[0-1]\", b: spine0}\n");
  const std::string cause = StragglerEvent("topology: {cluster: leaf.yaml}\n");
  EXPECT_NE(cause.find("straggler: leaf leaf0 (ranks 1 on node-"),
            std::string::npos)
      << cause;
  EXPECT_NE(cause.find(", 4 on node-"), std::string::npos) << cause;
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
        job_id = LatestJobId();
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
