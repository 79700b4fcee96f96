#include "agent/worker_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <utility>

#include "common/contract/worker_env.h"
#include "common/testing/status_matchers.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

proto::StartWorkersRequest TwoRanks() {
  proto::StartWorkersRequest req;
  req.set_job_id("j-1");
  req.set_attempt(2);
  req.set_world_size(4);
  req.set_coordinator_address("127.0.0.1:5000");
  req.mutable_spec()->set_source_path("/jobs/charlm.yaml");
  req.mutable_spec()->set_run_dir("/runs/charlm");
  req.mutable_spec()->add_overrides("train.steps=20");
  (*req.mutable_env())["NCCL_DEBUG"] = "INFO";
  (*req.mutable_env())["RANK"] = "99";  // the contract wins over the plan
  for (int i = 0; i < 2; ++i) {
    auto* a = req.add_ranks();
    a->set_rank(2 + i);
    a->set_local_rank(i);
    a->set_node_rank(1);
  }
  return req;
}

TEST(WorkerEnvTest, BuildsArgvAndEnvPerRank) {
  WorkerEnvContext ctx{
      "/opt/dstrain", "sekrit", {"PATH=/usr/bin", "RANK=7"}, {}, {}};
  auto launch = BuildJobLaunch(TwoRanks(), ctx);
  ASSERT_THAT(launch, IsOk()) << launch.status().ToString();
  EXPECT_EQ(launch->job_id, "j-1");
  EXPECT_EQ(launch->attempt, 2);
  ASSERT_EQ(launch->ranks.size(), 2u);
  const RankProcess& r = launch->ranks[1];
  EXPECT_EQ(r.rank, 3);
  EXPECT_EQ(r.local_rank, 1);
  EXPECT_THAT(r.argv,
              ElementsAre("/opt/dstrain", "worker", "--job",
                          "/jobs/charlm.yaml", "--set", "train.steps=20"));
  for (const char* kv :
       {"PATH=/usr/bin", "RANK=3", "WORLD_SIZE=4", "LOCAL_RANK=1",
        "LOCAL_WORLD_SIZE=2", "NODE_RANK=1",
        "DSTRAIN_COORDINATOR=127.0.0.1:5000", "DSTRAIN_TOKEN=sekrit",
        "DSTRAIN_JOB_ID=j-1", "DSTRAIN_ATTEMPT=2", "DSTRAIN_METRICS_FD=3",
        "DSTRAIN_RUN_DIR=/runs/charlm", "NCCL_DEBUG=INFO"}) {
    EXPECT_THAT(r.env, Contains(std::string(kv)));
  }
  EXPECT_THAT(r.env, Not(Contains(std::string("RANK=7"))));
  EXPECT_THAT(r.env, Not(Contains(std::string("RANK=99"))));
}

// With the agent's copy of the job, workers read it and not the
// submitter's path, which need not exist on this node.
TEST(WorkerEnvTest, WorkersReadTheAgentsCopyOfTheJob) {
  WorkerEnvContext ctx{"/opt/dstrain", "sekrit", {}, {}, {}};
  ctx.job_file = "/tmp/dstrain-agent-x/j-1.a2.yaml";
  auto launch = BuildJobLaunch(TwoRanks(), ctx);
  ASSERT_THAT(launch, IsOk());
  EXPECT_THAT(launch->ranks[0].argv,
              ElementsAre("/opt/dstrain", "worker", "--job",
                          "/tmp/dstrain-agent-x/j-1.a2.yaml", "--job-origin",
                          "/jobs/charlm.yaml", "--set", "train.steps=20"));
}

// Several "hosts" may share one machine name: workers name their host as
// the node registered (the agent's --hostname).
TEST(WorkerEnvTest, WorkersKnowTheirNodesRegisteredName) {
  WorkerEnvContext ctx{
      "/opt/dstrain", "sekrit", {"DSTRAIN_NODE_NAME=stale"}, {}, {}};
  ctx.inventory.set_hostname("node-b");
  auto launch = BuildJobLaunch(TwoRanks(), ctx);
  ASSERT_THAT(launch, IsOk());
  EXPECT_THAT(launch->ranks[0].env,
              Contains(std::string("DSTRAIN_NODE_NAME=node-b")));
  EXPECT_THAT(launch->ranks[0].env,
              Not(Contains(std::string("DSTRAIN_NODE_NAME=stale"))));
}

TEST(WorkerEnvTest, RejectsInconsistentRequests) {
  WorkerEnvContext ctx{"/opt/dstrain", "t", {}, {}, {}};
  auto req = TwoRanks();
  req.mutable_ranks(1)->set_local_rank(0);
  auto dup = BuildJobLaunch(req, ctx);
  ASSERT_THAT(dup, Not(IsOk()));
  EXPECT_NE(dup.status().message().find("rank 3"), std::string::npos);

  req = TwoRanks();
  req.mutable_ranks(0)->set_rank(4);
  EXPECT_THAT(BuildJobLaunch(req, ctx), Not(IsOk()));

  req = TwoRanks();
  req.clear_ranks();
  EXPECT_THAT(BuildJobLaunch(req, ctx), Not(IsOk()));

  req = TwoRanks();
  req.mutable_spec()->clear_source_path();
  EXPECT_THAT(BuildJobLaunch(req, ctx), Not(IsOk()));
}

TEST(WorkerEnvTest, HandsEachRankItsPartOfThePlan) {
  WorkerEnvContext ctx{
      "/opt/dstrain",
      "t",
      {"DSTRAIN_SUBCOMMS=stale:0:0", "DSTRAIN_GRAD_ALLREDUCE=x"},
      {},
      {}};
  auto req = TwoRanks();
  // 2 nodes x 2 ranks: intra_node by node, inter_node by local rank.
  auto* intra = req.add_communicators();
  intra->set_name("intra_node");
  for (int c : {0, 0, 1, 1}) intra->add_color(c);
  for (int k : {0, 1, 0, 1}) intra->add_key(k);
  auto* inter = req.add_communicators();
  inter->set_name("inter_node");
  for (int c : {0, 1, 0, 1}) inter->add_color(c);
  for (int k : {0, 0, 1, 1}) inter->add_key(k);
  proto::GradRoute* route = req.add_grad_routes();
  route->set_min_bytes(0);
  route->set_via("hierarchical");
  auto launch = BuildJobLaunch(req, ctx);
  ASSERT_THAT(launch, IsOk()) << launch.status().ToString();
  EXPECT_THAT(
      launch->ranks[0].env,
      Contains(std::string("DSTRAIN_SUBCOMMS=intra_node:1:0;inter_node:0:1")));
  EXPECT_THAT(
      launch->ranks[1].env,
      Contains(std::string("DSTRAIN_SUBCOMMS=intra_node:1:1;inter_node:1:1")));
  EXPECT_THAT(launch->ranks[1].env,
              Contains(std::string("DSTRAIN_GRAD_ALLREDUCE=hierarchical")));

  // Without a plan the agent's own (stale) variables do not leak through.
  auto plain = BuildJobLaunch(TwoRanks(), ctx);
  ASSERT_THAT(plain, IsOk());
  for (const std::string& kv : plain->ranks[0].env) {
    EXPECT_EQ(kv.rfind("DSTRAIN_SUBCOMMS=", 0), std::string::npos) << kv;
    EXPECT_EQ(kv.rfind("DSTRAIN_GRAD_ALLREDUCE=", 0), std::string::npos) << kv;
  }

  // Arrays that do not cover the world are refused, naming the communicator.
  intra->add_color(2);
  auto bad = BuildJobLaunch(req, ctx);
  ASSERT_THAT(bad, Not(IsOk()));
  EXPECT_EQ(bad.status().message(),
            "StartWorkers: sub-communicator `intra_node` has 5 colours and 4 "
            "keys for world_size 4");
}

// What the agent writes is what a worker reads: the environment of a
// launched rank decodes (common/contract/worker_env.h) to the request.
TEST(WorkerEnvTest, WorkersDecodeWhatTheAgentEncodes) {
  WorkerEnvContext ctx{"/opt/dstrain",
                       "sekrit",
                       {"GLOO_SOCKET_IFNAME=eth7", "MASTER_ADDR=10.0.0.1"},
                       {},
                       {}};
  auto req = TwoRanks();
  req.set_num_nodes(2);
  auto* intra = req.add_communicators();
  intra->set_name("intra_node");
  for (int c : {0, 0, 1, 1}) intra->add_color(c);
  for (int k : {0, 1, 0, 1}) intra->add_key(k);
  for (auto [bytes, via] : {std::pair<int64_t, const char*>{0, "hierarchical"},
                            {38797313, "world"}}) {
    proto::GradRoute* r = req.add_grad_routes();
    r->set_min_bytes(bytes);
    r->set_via(via);
  }
  auto launch = BuildJobLaunch(req, ctx);
  ASSERT_THAT(launch, IsOk()) << launch.status().ToString();
  const RankProcess& p = launch->ranks[1];
  std::map<std::string, std::string> env;
  for (const std::string& kv : p.env) {
    env[kv.substr(0, kv.find('='))] = kv.substr(kv.find('=') + 1);
  }
  StatusOr<contract::WorkerEnv> got = contract::DecodeWorkerEnv(
      [&](const char* name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      });
  ASSERT_THAT(got, IsOk()) << got.status().ToString();
  contract::WorkerEnv want;
  want.rank = 3;
  want.world_size = 4;
  want.local_rank = 1;
  want.local_world_size = 2;
  want.node_rank = 1;
  want.num_nodes = 2;
  want.master_addr = "10.0.0.1";
  want.coordinator = "127.0.0.1:5000";
  want.token = "sekrit";
  want.job_id = "j-1";
  want.attempt = 2;
  want.run_dir = "/runs/charlm";
  want.metrics_fd = kMetricsFd;
  want.comm_interface = "eth7";
  want.sub_communicators = {{"intra_node", 1, 1}};
  want.grad_routes = {{0, "hierarchical"}, {38797313, "world"}};
  EXPECT_EQ(*got, want);
}

TEST(WorkerEnvTest, BindsEachRankToANumaNodeWhenAsked) {
  WorkerEnvContext ctx{"/opt/dstrain", "t", {"DSTRAIN_NUMA_NODE=7"}, {}, {}};
  for (int id : {0, 1}) {
    proto::NumaNode* n = ctx.inventory.add_numa_nodes();
    n->set_id(id);
    for (int c = 0; c < 4; ++c) n->add_cpus(4 * id + c);
  }
  ctx.allowed_cpus = {0, 1, 2, 3, 4, 5, 6, 7};
  auto req = TwoRanks();
  req.mutable_spec()->set_numa_binding("auto");
  req.mutable_spec()->set_device("cpu");
  auto launch = BuildJobLaunch(req, ctx);
  ASSERT_THAT(launch, IsOk()) << launch.status().ToString();
  EXPECT_EQ(launch->ranks[0].numa_node, 0);
  EXPECT_EQ(launch->ranks[0].cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(launch->ranks[1].numa_node, 1);
  EXPECT_EQ(launch->ranks[1].cpus, (std::vector<int>{4, 5, 6, 7}));
  EXPECT_THAT(launch->ranks[1].env,
              Contains(std::string("DSTRAIN_NUMA_NODE=1")));

  // binding.numa none: no binding, and the agent's own variable is dropped.
  req.mutable_spec()->set_numa_binding("none");
  auto unbound = BuildJobLaunch(req, ctx);
  ASSERT_THAT(unbound, IsOk());
  for (const RankProcess& p : unbound->ranks) {
    EXPECT_EQ(p.numa_node, -1);
    EXPECT_TRUE(p.cpus.empty());
    for (const std::string& kv : p.env) {
      EXPECT_EQ(kv.rfind("DSTRAIN_NUMA_NODE=", 0), std::string::npos) << kv;
    }
  }
}

}  // namespace
}  // namespace dstrain::agent
