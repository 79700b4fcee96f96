#include "common/contract/worker_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/testing/status_matchers.h"

namespace dstrain::contract {
namespace {

using ::dstrain::testing::IsOk;

EnvLookup From(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(WorkerEnvTest, EveryFieldSurvivesEncodeThenDecode) {
  WorkerEnv env;
  env.rank = 5;
  env.world_size = 8;
  env.local_rank = 1;
  env.local_world_size = 4;
  env.node_rank = 1;
  env.num_nodes = 2;
  env.master_addr = "10.0.0.1";
  env.master_port = 29500;
  env.coordinator = "10.0.0.9:7000";
  env.token = "t0k3n";
  env.job_id = "j-7";
  env.job_name = "charlm";
  env.attempt = 3;
  env.run_dir = "/runs/charlm";
  env.resume = true;
  env.metrics_fd = 3;
  env.progress_file = "/dev/shm/dstrain-progress/rank-2.progress";
  env.comm_host = "10.0.0.2";
  env.node_name = "node-b";
  env.tls_cert = "/etc/dstrain/node.pem";
  env.tls_key = "/etc/dstrain/node.key";
  env.tls_ca = "/etc/dstrain/ca.pem";
  env.comm_interface = "eth1";
  env.numa_node = 1;
  env.sub_communicators = {{"intra_node", 1, 1}, {"inter_node", -1, 0}};
  env.grad_routes = {{0, "hierarchical"}, {38797313, "world"}};
  std::map<std::string, std::string> vars;
  for (const auto& [k, v] : EncodeWorkerEnv(env)) {
    EXPECT_TRUE(vars.emplace(k, v).second) << k << " written twice";
    EXPECT_THAT(WorkerEnvVariables(), ::testing::Contains(k));
  }
  StatusOr<WorkerEnv> back = DecodeWorkerEnv(From(vars));
  ASSERT_THAT(back, IsOk()) << back.status().ToString();
  EXPECT_EQ(*back, env);
}

TEST(WorkerEnvTest, NothingSetIsOneLocalProcess) {
  StatusOr<WorkerEnv> env = DecodeWorkerEnv(From({}));
  ASSERT_THAT(env, IsOk());
  EXPECT_EQ(*env, WorkerEnv{});
  // LOCAL_WORLD_SIZE defaults to the world, LOCAL_RANK to RANK modulo it.
  env = DecodeWorkerEnv(From({{"WORLD_SIZE", "4"}, {"RANK", "3"}}));
  ASSERT_THAT(env, IsOk());
  EXPECT_EQ(env->local_world_size, 4);
  EXPECT_EQ(env->local_rank, 3);
  env = DecodeWorkerEnv(
      From({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_WORLD_SIZE", "2"}}));
  ASSERT_THAT(env, IsOk());
  EXPECT_EQ(env->local_rank, 1);
}

TEST(WorkerEnvTest, BadValuesNameTheVariable) {
  EXPECT_EQ(DecodeWorkerEnv(From({{"WORLD_SIZE", "2"}, {"RANK", "2"}}))
                .status()
                .message(),
            "environment variable RANK=2 is not an integer in [0, 1]");
  EXPECT_EQ(
      DecodeWorkerEnv(From({{"DSTRAIN_RESUME", "yes"}})).status().message(),
      "environment variable DSTRAIN_RESUME=yes is not 0 or 1");
  EXPECT_EQ(DecodeWorkerEnv(From({{"MASTER_PORT", "http"}})).status().message(),
            "environment variable MASTER_PORT=http is not an integer in [1, "
            "65535]");
  EXPECT_THAT(DecodeWorkerEnv(From({{"DSTRAIN_GRAD_ALLREDUCE", "ring"}}))
                  .status()
                  .message(),
              ::testing::StartsWith(
                  "environment variable DSTRAIN_GRAD_ALLREDUCE=ring: "));
}

TEST(WorkerEnvTest, ParsesTheSubCommunicatorsVariable) {
  auto specs = ParseSubCommunicators("intra_node:1:0;inter_node:-1:3").value();
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].name, "intra_node");
  EXPECT_EQ(specs[0].color, 1);
  EXPECT_EQ(specs[1].color, -1);
  EXPECT_EQ(specs[1].key, 3);
  EXPECT_TRUE(ParseSubCommunicators("").value().empty());
  EXPECT_EQ(ParseSubCommunicators("a:1:0;b:x:0").status().message(),
            "DSTRAIN_SUBCOMMS item 1 `b:x:0`: colour and key must be integers");
  EXPECT_EQ(ParseSubCommunicators("a:1").status().message(),
            "DSTRAIN_SUBCOMMS item 0 `a:1`: expected name:colour:key");
  EXPECT_EQ(ParseSubCommunicators("a:1:0;a:2:0").status().message(),
            "DSTRAIN_SUBCOMMS item 1 `a:2:0`: `a` is given twice");
}

}  // namespace
}  // namespace dstrain::contract
