// A real CoordinatorServer and a real Agent on loopback. The "dstrain"
// executable the agent runs is a /bin/sh script that follows the worker
// contract (env, metrics on fd 3) and behaves as its job file says, so the
// agent's whole path is exercised without the training engine.
#include "agent/agent.h"

#include <grpcpp/client_context.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/rpc/auth.h"
#include "common/rpc/channel.h"
#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"
#include "coordinator/coordinator_server.h"
#include "dstrain.grpc.pb.h"
#include "tests/util/process_table.h"
#include "tests/util/wait_for.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using dstrain::testing::WaitFor;

constexpr char kToken[] = "agent-test-token";

constexpr char kFakeWorker[] = R"(#!/bin/sh
# fake dstrain: called as `<exe> worker --job JOBFILE [--set k=v]...`
[ "$1" = worker ] || exit 64
mode=$(cat "$3")
echo "worker rank $RANK of $WORLD_SIZE local $LOCAL_RANK job $DSTRAIN_JOB_ID"
i=1
while [ $i -le 3 ]; do
  echo "{\"type\":\"step\",\"step\":$i,\"total_steps\":3,\"loss\":$((10 - i)).5,\"lr\":0.1,\"tokens_per_s\":100,\"step_time_s\":0.01}" >&3
  i=$((i + 1))
done
case "$mode" in
  ok) echo "{\"type\":\"result\",\"steps\":3,\"final_loss\":7.5,\"param_digest\":\"d1\",\"param_count\":10}" >&3
      exit 0 ;;
  fail) [ "$RANK" = 1 ] && exit 3
        exec sleep 1000 ;;
  hang) echo ready
        exec sleep 1000 ;;
esac
exit 65
)";

bool IsEnded(proto::JobState s) {
  return s == proto::JOB_SUCCEEDED || s == proto::JOB_FAILED ||
         s == proto::JOB_CANCELLED;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dstrain_agent_test_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    exe_ = (dir_ / "fake_dstrain").string();
    std::ofstream(exe_) << kFakeWorker;
    chmod(exe_.c_str(), 0755);

    coordinator::CoordinatorOptions co;
    co.token = kToken;
    auto server = coordinator::CoordinatorServer::Start(co);
    ASSERT_THAT(server, IsOk()) << server.status().ToString();
    server_ = std::move(*server);
    client_ = std::make_unique<coordinator::CoordinatorClient>(
        server_->address(), kToken);
  }

  void TearDown() override {
    agent_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }

  AgentOptions Options() {
    AgentOptions o;
    o.coordinator_address = server_->address();
    o.token = kToken;
    o.worker_executable = exe_;
    o.hostname = "testhost";
    o.log_sink = [this](int, const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      logs_.push_back(line);
    };
    return o;
  }

  void StartAgent() {
    auto agent = Agent::Start(Options());
    ASSERT_THAT(agent, IsOk()) << agent.status().ToString();
    agent_ = std::move(*agent);
  }

  std::string Launch(const std::string& mode) {
    std::string job = (dir_ / (mode + ".yaml")).string();
    std::ofstream(job) << mode;
    proto::JobSpec spec;
    spec.set_name(mode);
    spec.set_source_path(job);
    spec.set_procs_per_node(2);
    spec.set_nodes_min(1);
    spec.set_nodes_max(1);
    spec.set_run_dir(dir_.string());
    auto id = client_->LaunchJob(spec);
    EXPECT_THAT(id, IsOk()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  proto::JobStatus WaitForEnd(const std::string& id) {
    proto::JobStatus last;
    EXPECT_TRUE(WaitFor(
        [&] {
          auto st = client_->GetJobStatus(id, 0);
          if (st.ok()) last = *st;
          return st.ok() && IsEnded(st->state());
        },
        15s))
        << last.DebugString();
    return last;
  }

  int CountLogs(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& l : logs_) n += l.find(needle) != std::string::npos;
    return n;
  }

  bool NoChildrenLeft() {
    return dstrain::testing::ChildrenOf(getpid()).empty();
  }

  fs::path dir_;
  std::string exe_;
  std::unique_ptr<coordinator::CoordinatorServer> server_;
  std::unique_ptr<coordinator::CoordinatorClient> client_;
  std::unique_ptr<Agent> agent_;
  std::mutex mu_;
  std::vector<std::string> logs_;
};

TEST_F(AgentTest, RunsAJobToSuccessAndRelaysEverything) {
  StartAgent();
  EXPECT_FALSE(agent_->node_id().empty());
  std::string id = Launch("ok");
  proto::JobStatus st = WaitForEnd(id);
  EXPECT_EQ(st.state(), proto::JOB_SUCCEEDED) << st.reason();
  EXPECT_EQ(st.world_size(), 2);
  ASSERT_EQ(st.history_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(st.history(i).step(), i + 1);
    EXPECT_EQ(st.history(i).rank(), 0);
    EXPECT_DOUBLE_EQ(st.history(i).loss(), 9.5 - i);
  }
  ASSERT_EQ(st.results_size(), 2);
  for (const auto& r : st.results()) EXPECT_EQ(r.param_digest(), "d1");
  ASSERT_EQ(st.exits_size(), 2);
  for (const auto& e : st.exits()) EXPECT_EQ(e.exit_code(), 0);
  EXPECT_EQ(CountLogs("[rank 1 testhost] worker rank 1 of 2 local 1 job " + id),
            1);
  EXPECT_EQ(CountLogs("[rank 0 testhost] worker rank 0 of 2 local 0 job " + id),
            1);
  EXPECT_TRUE(WaitFor([&] { return agent_->RunningRanks().empty(); }, 5s));
  EXPECT_TRUE(NoChildrenLeft());
}

TEST_F(AgentTest, OneFailedRankFailsTheJobAndStopsTheOthers) {
  StartAgent();
  std::string id = Launch("fail");
  proto::JobStatus st = WaitForEnd(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_NE(st.reason().find("rank 1 on testhost exited with code 3"),
            std::string::npos)
      << st.reason();
  // Rank 0 was asleep for 1000 s: the agent killed it on its own.
  EXPECT_TRUE(WaitFor([&] { return agent_->RunningRanks().empty(); }, 10s));
  EXPECT_TRUE(NoChildrenLeft());
}

TEST_F(AgentTest, CancelStopsTheWorkers) {
  StartAgent();
  std::string id = Launch("hang");
  ASSERT_TRUE(WaitFor([&] { return CountLogs("] ready") == 2; }, 10s));
  pid_t pgid = agent_->WorkerProcessGroup(id);
  ASSERT_GT(pgid, 1);
  EXPECT_EQ(dstrain::testing::ProcessesInGroup(pgid).size(), 2u);
  ASSERT_THAT(client_->CancelJob(id, "test cancels"), IsOk());
  proto::JobStatus st = WaitForEnd(id);
  EXPECT_EQ(st.state(), proto::JOB_CANCELLED);
  EXPECT_TRUE(WaitFor(
      [&] { return dstrain::testing::ProcessesInGroup(pgid).empty(); }, 10s));
  EXPECT_TRUE(WaitFor([&] { return agent_->RunningRanks().empty(); }, 5s));
}

TEST_F(AgentTest, ShutdownStopsAndReportsRunningWorkers) {
  StartAgent();
  std::string id = Launch("hang");
  ASSERT_TRUE(WaitFor([&] { return CountLogs("] ready") == 2; }, 10s));
  pid_t pgid = agent_->WorkerProcessGroup(id);
  agent_->Shutdown();
  EXPECT_TRUE(dstrain::testing::ProcessesInGroup(pgid).empty());
  EXPECT_TRUE(NoChildrenLeft());
  // The exits were reported before the agent went away.
  proto::JobStatus st = WaitForEnd(id);
  EXPECT_EQ(st.state(), proto::JOB_FAILED);
  EXPECT_NE(st.reason().find("shutting down"), std::string::npos)
      << st.reason();
}

TEST_F(AgentTest, WrongTokenCannotRegister) {
  AgentOptions o = Options();
  o.token = "not-the-token";
  auto agent = Agent::Start(o);
  ASSERT_THAT(agent, Not(IsOk()));
  EXPECT_EQ(agent.status().code(), StatusCode::kUnauthenticated)
      << agent.status().ToString();
}

TEST_F(AgentTest, AgentServiceRefusesWrongToken) {
  StartAgent();
  auto stub = proto::Agent::NewStub(rpc::MakeChannel(agent_->address()));
  grpc::ClientContext ctx;
  rpc::AddToken(&ctx, "not-the-token");
  proto::StartWorkersRequest req;
  proto::StartWorkersResponse resp;
  grpc::Status s = stub->StartWorkers(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// With the coordinator on loopback, the agent listens and registers on
// loopback too, by default or behind a wildcard --listen: not on the first
// interface's address, which the coordinator may not reach.
TEST_F(AgentTest, ListensAndAnnouncesTheAddressOnTheCoordinatorsRoute) {
  for (const char* listen : {"", "0.0.0.0:0"}) {
    AgentOptions o = Options();
    o.listen_address = listen;
    auto agent = Agent::Start(o);
    ASSERT_THAT(agent, IsOk()) << "listen `" << listen << "`";
    EXPECT_EQ((*agent)->address().rfind("127.0.0.1:", 0), 0u)
        << "listen `" << listen << "` announced " << (*agent)->address();
    (*agent)->Shutdown();
  }
}

TEST_F(AgentTest, RejectsBadOptions) {
  AgentOptions o = Options();
  o.worker_executable = "relative/dstrain";
  EXPECT_EQ(Agent::Start(o).status().code(), StatusCode::kInvalidArgument);
  o.worker_executable = (dir_ / "missing").string();
  EXPECT_EQ(Agent::Start(o).status().code(), StatusCode::kInvalidArgument);
  o = Options();
  o.token = "";
  EXPECT_EQ(Agent::Start(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dstrain::agent
