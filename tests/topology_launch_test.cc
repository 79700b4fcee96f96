// A job on 4 local ranks with a described
// 2-leaf cluster gets the planned rank order and its sub-communicators.
//
// Real processes on this machine: `dstrain coordinator`, two
// `dstrain agent`s registering as hostA and hostB (both on 127.0.0.1),
// `dstrain launch --coordinator` of a job with nodes {min: 2},
// procs_per_node 2 and topology.cluster naming a YAML where hostB hangs off
// the first leaf and hostA off the second. Registration order and name
// order put hostA first; the plan (leaf-contiguous) puts hostB first. The
// test asserts the order from the coordinator's JobStatus, the Split groups
// from what every worker printed after building them (an all-gather of
// world ranks through each sub-communicator), and that training through
// the hierarchical all-reduce kept every rank's parameters bitwise equal.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"
#include "tests/util/dstrain_test.h"
#include "tests/util/subprocess.h"
#include "tests/util/wait_for.h"

namespace dstrain {
namespace {

using ::dstrain::testing::IsOk;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Subprocess;
using testing::WaitFor;

constexpr const char* kToken = "topology-test-token";

std::string Job(const std::string& algorithm,
                const std::string& cluster = "two-leaves.yaml", int nodes = 2,
                int procs = 2) {
  return "name: planned-" + algorithm +
         "\n"
         "nodes: {min: " +
         std::to_string(nodes) + ", max: " + std::to_string(nodes) +
         "}\n"
         "procs_per_node: " +
         std::to_string(procs) +
         "\n"
         "device: cpu\n"
         "backend: gloo\n"
         "topology: {cluster: " +
         cluster + ", algorithm: " + algorithm +
         "}\n"
         "model: {type: gpt, vocab: 256, layers: 1, d_model: 32, heads: 2, "
         "seq_len: 32}\n"
         "data: {type: text, path: /usr/share/games/fortunes}\n"
         "train:\n"
         "  steps: 3\n"
         "  micro_batch: 4\n"
         "  optimizer: {type: adamw, lr: 1.0e-2}\n"
         "  schedule: {type: constant}\n";
}

// hostB under leaf0, hostA under leaf1, two more hosts per leaf that this
// job does not get.
constexpr const char* kCluster =
    "name: two-leaves\n"
    "fabric: {kind: fat-tree, k: 8, levels: 2, oversubscription: 1}\n"
    "defaults: {devices: 2, bandwidth: 100 Gb/s, latency: 1 us}\n"
    "switches:\n"
    "  - {name: \"leaf[0-1]\", level: 0}\n"
    "  - {name: spine0, level: 1}\n"
    "hosts:\n"
    "  - {name: \"hostB,spare[0-1]\", leaf: leaf0}\n"
    "  - {name: \"hostA,spare[2-3]\", leaf: leaf1}\n"
    "links:\n"
    "  - {a: \"leaf[0-1]\", b: spine0, count: 3}\n";

class TopologyLaunchTest : public testing::DstrainTest {
 protected:
  void SetUp() override {
    DstrainTest::SetUp();
    WriteTokenFile("token", kToken);
    std::ofstream(dir_ / "two-leaves.yaml") << kCluster;
  }
  void TearDown() override {
    // Agents first (their workers die with them), then the coordinator.
    for (auto& a : more_agents_) {
      a->Signal(SIGTERM);
      a->Wait(15s);
    }
    for (auto* p : {&agent_b_, &agent_a_, &coord_}) {
      if (*p == nullptr) continue;
      (*p)->Signal(SIGTERM);
      (*p)->Wait(15s);
    }
    DstrainTest::TearDown();
  }

  std::unique_ptr<Subprocess> Start(const std::vector<std::string>& args) {
    // Both "hosts" are this machine: collectives on loopback.
    return StartDstrain(args, {"DSTRAIN_COMM_HOST=127.0.0.1"});
  }

  // Starts an agent registering as `host` and waits until it serves.
  std::unique_ptr<Subprocess> StartAgent(const std::string& host) {
    auto agent = Start({"agent", "--coordinator", address_, "--token-file",
                        (dir_ / "token").string(), "--listen", "127.0.0.1:0",
                        "--hostname", host});
    EXPECT_TRUE(agent);
    if (!agent) return nullptr;
    EXPECT_TRUE(WaitFor(
        [&] { return agent->Stdout().find("serving on") != std::string::npos; },
        30s))
        << agent->Stderr();
    return agent;
  }

  void StartCluster() {
    coord_ = StartCoordinator((dir_ / "token").string(), &address_);
    ASSERT_TRUE(coord_);
    // hostA registers first: registration order and name order agree.
    agent_a_ = StartAgent("hostA");
    agent_b_ = StartAgent("hostB");
    ASSERT_TRUE(agent_a_ && agent_b_);
  }

  // Runs the job to its end; returns the summary JSON's job_id.
  std::string RunJob(const std::string& algorithm) {
    return RunJobText(algorithm, Job(algorithm));
  }
  std::string RunJobText(const std::string& algorithm,
                         const std::string& text) {
    const fs::path job = dir_ / ("job-" + algorithm + ".yaml");
    std::ofstream(job) << text;
    auto launch =
        Start({"launch", job.string(), "--coordinator", address_,
               "--token-file", (dir_ / "token").string(), "--run-dir",
               (dir_ / ("run-" + algorithm)).string(), "--quiet", "--json"});
    EXPECT_TRUE(launch);
    if (!launch) return "";
    auto st = launch->Wait(240s);
    EXPECT_TRUE(st.has_value()) << launch->Stderr();
    EXPECT_EQ(st.has_value() ? testing::ShellExitCode(*st) : -1, 0)
        << launch->Stdout() << launch->Stderr() << AgentsOutput();
    return testing::Str(testing::ParseJson(launch->Stdout()), "job_id");
  }

  proto::JobStatus StatusOf(const std::string& job_id) {
    coordinator::CoordinatorClient client(address_, kToken);
    StatusOr<proto::JobStatus> st = client.GetJobStatus(job_id, 0);
    EXPECT_THAT(st, IsOk()) << st.status().ToString();
    return st.ok() ? *st : proto::JobStatus();
  }

  std::string AgentsOutput() const {
    std::string out = agent_a_ ? agent_a_->Stderr() : "";
    if (agent_b_) out += agent_b_->Stderr();
    for (const auto& a : more_agents_) out += a->Stderr();
    return out;
  }

  std::string address_;
  std::unique_ptr<Subprocess> coord_, agent_a_, agent_b_;
  std::vector<std::unique_ptr<Subprocess>> more_agents_;
};

std::vector<int> Colors(const proto::SubCommunicator& c) {
  return std::vector<int>(c.color().begin(), c.color().end());
}
std::vector<int> Keys(const proto::SubCommunicator& c) {
  return std::vector<int>(c.key().begin(), c.key().end());
}

TEST_F(TopologyLaunchTest, FourRanksOnTwoLeavesGetThePlannedOrderAndGroups) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string job_id = RunJob("hierarchical");
  ASSERT_FALSE(job_id.empty());

  // The coordinator placed hostB's ranks first (leaf0), then hostA's.
  const proto::JobStatus st = StatusOf(job_id);
  EXPECT_EQ(st.state(), proto::JOB_SUCCEEDED) << st.reason();
  EXPECT_EQ(st.placement(), "leaf-contiguous");
  ASSERT_EQ(st.ranks_size(), 4);
  const char* hosts[] = {"hostB", "hostB", "hostA", "hostA"};
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(st.ranks(r).rank(), r);
    EXPECT_EQ(st.ranks(r).host(), hosts[r]) << "rank " << r;
    EXPECT_EQ(st.ranks(r).local_rank(), r % 2);
    EXPECT_EQ(st.ranks(r).node_rank(), r / 2);
  }
  // The plan's sub-communicators: intra_node by host, inter_node by local
  // rank, keys ordering each group.
  ASSERT_EQ(st.communicators_size(), 2);
  EXPECT_EQ(st.communicators(0).name(), "intra_node");
  EXPECT_EQ(Colors(st.communicators(0)), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(Keys(st.communicators(0)), (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(st.communicators(1).name(), "inter_node");
  EXPECT_EQ(Colors(st.communicators(1)), (std::vector<int>{0, 1, 0, 1}));
  EXPECT_EQ(Keys(st.communicators(1)), (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(st.grad_allreduce(), "hierarchical");

  // What each worker's Split built, as it printed it (relayed by its agent
  // with the rank and host it ran on).
  const std::string out = AgentsOutput();
  for (const char* line :
       {"[rank 0 hostB] plan: sub-communicator intra_node: group of 2, world "
        "ranks [0, 1]",
        "[rank 1 hostB] plan: sub-communicator intra_node: group of 2, world "
        "ranks [0, 1]",
        "[rank 2 hostA] plan: sub-communicator intra_node: group of 2, world "
        "ranks [2, 3]",
        "[rank 3 hostA] plan: sub-communicator intra_node: group of 2, world "
        "ranks [2, 3]",
        "[rank 0 hostB] plan: sub-communicator inter_node: group of 2, world "
        "ranks [0, 2]",
        "[rank 2 hostA] plan: sub-communicator inter_node: group of 2, world "
        "ranks [0, 2]",
        "[rank 1 hostB] plan: sub-communicator inter_node: group of 2, world "
        "ranks [1, 3]",
        "[rank 3 hostA] plan: sub-communicator inter_node: group of 2, world "
        "ranks [1, 3]",
        "[rank 0 hostB] plan: gradients all-reduced hierarchical through the "
        "sub-communicators"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << "\n" << out;
  }
  // Training through the composed all-reduce kept the ranks in lockstep.
  ASSERT_EQ(st.results_size(), 4);
  for (const proto::RankResult& r : st.results()) {
    EXPECT_EQ(r.steps(), 3);
    EXPECT_EQ(r.param_digest(), st.results(0).param_digest());
  }
}

// auto: the plan's choice by message size routes the all-reduces. On this
// fabric the cost model picks hierarchical below 37 MiB and NCCL's tree
// (the world's own all-reduce) above (`dstrain topo plan`), so this job's
// small gradients go through the sub-communicators.
TEST_F(TopologyLaunchTest, AutoPlansTheOrderAndRoutesTheAllReduceBySize) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string job_id = RunJob("auto");
  ASSERT_FALSE(job_id.empty());
  const proto::JobStatus st = StatusOf(job_id);
  EXPECT_EQ(st.state(), proto::JOB_SUCCEEDED) << st.reason();
  ASSERT_EQ(st.ranks_size(), 4);
  EXPECT_EQ(st.ranks(0).host(), "hostB");
  EXPECT_EQ(st.ranks(3).host(), "hostA");
  EXPECT_EQ(st.grad_allreduce(), "hierarchical@0,world@38797313");
  const std::string line =
      "[rank 0 hostB] plan: gradients all-reduced by size: hierarchical "
      "below 37.0 MiB, world from 37.0 MiB (world: gloo's own all-reduce)";
  EXPECT_NE(AgentsOutput().find(line), std::string::npos) << AgentsOutput();
  ASSERT_EQ(st.results_size(), 4);
  for (const proto::RankResult& r : st.results()) {
    EXPECT_EQ(r.steps(), 3);
    EXPECT_EQ(r.param_digest(), st.results(0).param_digest());
  }
}

TEST_F(TopologyLaunchTest, NodeOutsideTheDescriptionFailsNamingIt) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  std::string cluster = kCluster;
  cluster.replace(cluster.find("hostA,"), 6, "hostZ,");
  std::ofstream(dir_ / "two-leaves.yaml") << cluster;
  const fs::path job = dir_ / "job.yaml";
  std::ofstream(job) << Job("auto");
  auto launch = Start({"launch", job.string(), "--coordinator", address_,
                       "--token-file", (dir_ / "token").string(), "--run-dir",
                       (dir_ / "run").string(), "--quiet"});
  ASSERT_TRUE(launch);
  auto st = launch->Wait(120s);
  ASSERT_TRUE(st.has_value());
  EXPECT_NE(testing::ShellExitCode(*st), 0);
  EXPECT_NE((launch->Stdout() + launch->Stderr())
                .find("topology plan: node `hostA` is not in cluster "
                      "`two-leaves`"),
            std::string::npos)
      << launch->Stdout() << launch->Stderr();
  // Nothing started.
  EXPECT_EQ(AgentsOutput().find("[rank "), std::string::npos);
}

// The torus all-reduce trains: four agents are the hosts of a 2x2 torus
// (one rank each), and the same tiny job runs with topology.algorithm
// torus — gradients through the parts' sub-communicators, x+ and y+ at
// once — and ring (the world's own all-reduce in the planned order). The
// losses agree step for step within fp32 summation-order noise.
TEST_F(TopologyLaunchTest, TorusTrainingGivesTheRingsLosses) {
  std::ofstream(dir_ / "torus-2x2.yaml")
      << "name: torus-2x2\n"
         "generator: {kind: torus, dims: [2, 2], wraparound: true, "
         "devices_per_host: 1}\n";
  coord_ = StartCoordinator((dir_ / "token").string(), &address_);
  ASSERT_TRUE(coord_);
  for (const char* host : {"node0-0", "node0-1", "node1-0", "node1-1"}) {
    more_agents_.push_back(StartAgent(host));
    ASSERT_TRUE(more_agents_.back());
  }
  std::map<std::string, std::vector<double>> losses;
  for (const std::string algorithm : {"torus", "ring"}) {
    const std::string job_id = RunJobText(
        algorithm, Job(algorithm, "torus-2x2.yaml", /*nodes=*/4, /*procs=*/1));
    ASSERT_FALSE(job_id.empty());
    const proto::JobStatus st = StatusOf(job_id);
    EXPECT_EQ(st.state(), proto::JOB_SUCCEEDED) << st.reason();
    EXPECT_EQ(st.grad_allreduce(), algorithm == "torus" ? "torus" : "");
    for (const auto& row :
         testing::ReadJsonLines(dir_ / ("run-" + algorithm) / "metrics.jsonl"))
      losses[algorithm].push_back(testing::Num(row, "loss"));
  }
  EXPECT_NE(AgentsOutput().find("plan: gradients all-reduced torus through "
                                "the sub-communicators"),
            std::string::npos)
      << AgentsOutput();
  EXPECT_NE(AgentsOutput().find("plan: sub-communicator torus_p1_y: group of "
                                "2"),
            std::string::npos);
  ASSERT_EQ(losses["torus"].size(), 3u);
  ASSERT_EQ(losses["ring"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(losses["torus"][i], losses["ring"][i],
                1e-5 * std::abs(losses["ring"][i]))
        << "step " << i + 1;
  }
}

}  // namespace
}  // namespace dstrain
