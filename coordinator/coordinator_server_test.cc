// A real CoordinatorServer on 127.0.0.1:0, driven through the real
// CoordinatorClient and CoordinatorKvStore. A small recording Agent service
// (a real gRPC server) stands in for agents, which live in agent/.

#include "coordinator/coordinator_server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <csignal>
#include <cstdlib>
#include <future>
#include <thread>

#include "common/rpc/auth.h"
#include "common/rpc/channel.h"
#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"
#include "coordinator/client/coordinator_kv_store.h"
#include "coordinator/state/sqlite_state_store.h"
#include "dstrain.grpc.pb.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kToken[] = "test-token-0123";

// Polls `pred` until it holds or `timeout` passes.
template <typename Pred>
bool WaitUntil(Pred pred, milliseconds timeout = seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

class RecordingAgent final : public proto::Agent::CallbackService {
 public:
  grpc::ServerUnaryReactor* StartWorkers(
      grpc::CallbackServerContext* context,
      const proto::StartWorkersRequest* request,
      proto::StartWorkersResponse* response) override {
    auto* reactor = context->DefaultReactor();
    grpc::Status auth = rpc::CheckToken(*context, kToken);
    if (auth.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      starts_.push_back(*request);
      for (int i = 0; i < request->ranks_size(); ++i) response->add_pids(1);
    }
    reactor->Finish(auth);
    return reactor;
  }
  grpc::ServerUnaryReactor* StopWorkers(
      grpc::CallbackServerContext* context,
      const proto::StopWorkersRequest* request,
      proto::StopWorkersResponse*) override {
    auto* reactor = context->DefaultReactor();
    grpc::Status auth = rpc::CheckToken(*context, kToken);
    if (auth.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      stops_.push_back(*request);
    }
    reactor->Finish(auth);
    return reactor;
  }

  std::vector<proto::StartWorkersRequest> starts() {
    std::lock_guard<std::mutex> lock(mu_);
    return starts_;
  }
  std::vector<proto::StopWorkersRequest> stops() {
    std::lock_guard<std::mutex> lock(mu_);
    return stops_;
  }

 private:
  std::mutex mu_;
  std::vector<proto::StartWorkersRequest> starts_;  // guarded by mu_
  std::vector<proto::StopWorkersRequest> stops_;    // guarded by mu_
};

class CoordinatorServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartCoordinator(CoordinatorOptions()); }

  void StartCoordinator(CoordinatorOptions options) {
    options.token = kToken;
    auto server = CoordinatorServer::Start(options);
    ASSERT_THAT(server, IsOk()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = std::make_unique<CoordinatorClient>(server_->address(), kToken);
  }

  void StartAgent() {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", rpc::MakeServerCredentials(),
                             &port);
    builder.RegisterService(&agent_);
    agent_server_ = builder.BuildAndStart();
    ASSERT_NE(agent_server_, nullptr);
    agent_address_ = "127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
    if (agent_server_) agent_server_->Shutdown();
  }

  std::string RegisterVm() {
    proto::NodeInventory inv;
    inv.set_hostname("vm");
    auto r = client_->RegisterNode(inv, agent_address_);
    EXPECT_THAT(r, IsOk()) << r.status().ToString();
    return r.ok() ? r->node_id() : "";
  }

  // A job with no nodes stays PENDING: its rendezvous namespace is open.
  std::string PendingJob() {
    proto::JobSpec spec;
    spec.set_name("kv");
    spec.set_procs_per_node(1);
    spec.set_nodes_min(1);
    spec.set_nodes_max(1);
    auto id = client_->LaunchJob(spec);
    EXPECT_THAT(id, IsOk()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  proto::JobState StateOf(const std::string& job) {
    auto st = client_->GetJobStatus(job);
    return st.ok() ? st->state() : proto::JOB_STATE_UNSPECIFIED;
  }

  std::unique_ptr<CoordinatorServer> server_;
  std::unique_ptr<CoordinatorClient> client_;
  RecordingAgent agent_;
  std::unique_ptr<grpc::Server> agent_server_;
  std::string agent_address_ = "127.0.0.1:1";
};

TEST_F(CoordinatorServerTest, BindsAFreeLoopbackPort) {
  const std::string& a = server_->address();
  EXPECT_EQ(a.rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(a, "127.0.0.1:0");
}

TEST_F(CoordinatorServerTest, RegisterAndHeartbeat) {
  proto::NodeInventory inv;
  inv.set_hostname("vm");
  auto r = client_->RegisterNode(inv, "127.0.0.1:5555");
  ASSERT_THAT(r, IsOk()) << r.status().ToString();
  EXPECT_FALSE(r->node_id().empty());
  EXPECT_DOUBLE_EQ(r->heartbeat_s(), 1.0);
  auto known = client_->Heartbeat(r->node_id(), {0, 1});
  ASSERT_THAT(known, IsOk());
  EXPECT_TRUE(*known);
  auto unknown = client_->Heartbeat("n-404", {});
  ASSERT_THAT(unknown, IsOk());
  EXPECT_FALSE(*unknown);
  auto second = client_->RegisterNode(inv, "127.0.0.1:5556");
  ASSERT_THAT(second, IsOk());
  EXPECT_NE(second->node_id(), r->node_id());
  auto no_address = client_->RegisterNode(inv, "");
  EXPECT_EQ(no_address.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CoordinatorServerTest, StartRejectsBadOptions) {
  CoordinatorOptions o;
  auto s = CoordinatorServer::Start(o);  // no token
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  o.token = "t";
  o.heartbeat_s = 0;
  EXPECT_EQ(CoordinatorServer::Start(o).status().code(),
            StatusCode::kInvalidArgument);
  o.heartbeat_s = 1;
  o.listen_address = server_->address();  // in use
  EXPECT_EQ(CoordinatorServer::Start(o).status().code(),
            StatusCode::kUnavailable);
}

TEST_F(CoordinatorServerTest, JobRunsAndFailsWhenARankIsKilled) {
  StartAgent();
  std::string node = RegisterVm();
  proto::JobSpec spec;
  spec.set_name("charlm");
  spec.set_procs_per_node(2);
  spec.set_nodes_min(1);
  spec.set_nodes_max(1);
  spec.set_yaml("name: charlm\n");
  auto id = client_->LaunchJob(spec);
  ASSERT_THAT(id, IsOk()) << id.status().ToString();

  ASSERT_TRUE(WaitUntil([&] { return agent_.starts().size() == 1; }));
  proto::StartWorkersRequest start = agent_.starts()[0];
  EXPECT_EQ(start.job_id(), *id);
  EXPECT_EQ(start.world_size(), 2);
  EXPECT_EQ(start.coordinator_address(), server_->address());
  EXPECT_EQ(start.spec().yaml(), "name: charlm\n");
  ASSERT_EQ(start.ranks_size(), 2);
  EXPECT_EQ(start.ranks(0).rank(), 0);
  EXPECT_EQ(start.ranks(1).rank(), 1);
  EXPECT_EQ(start.ranks(1).local_rank(), 1);
  EXPECT_EQ(start.ranks(1).node_id(), node);
  ASSERT_TRUE(WaitUntil([&] { return StateOf(*id) == proto::JOB_RUNNING; }));

  proto::ReportMetricsRequest metrics;
  metrics.set_node_id(node);
  for (int step = 1; step <= 3; ++step) {
    proto::StepMetrics* m = metrics.add_metrics();
    m->set_job_id(*id);
    m->set_rank(0);
    m->set_step(step);
    m->set_loss(5.5 - step);
  }
  ASSERT_THAT(client_->ReportMetrics(metrics), IsOk());
  auto st = client_->GetJobStatus(*id, 1);
  ASSERT_THAT(st, IsOk());
  ASSERT_EQ(st->history_size(), 2);
  EXPECT_EQ(st->history(0).step(), 2);
  EXPECT_DOUBLE_EQ(st->history(1).loss(), 2.5);

  proto::WorkerExit killed;
  killed.set_rank(1);
  killed.set_signal(SIGKILL);
  ASSERT_THAT(client_->ReportWorkerExit(node, *id, 0, killed), IsOk());
  st = client_->GetJobStatus(*id);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state(), proto::JOB_FAILED);
  EXPECT_EQ(st->reason(), "rank 1 on vm was killed by SIGKILL");
  ASSERT_TRUE(WaitUntil([&] { return agent_.stops().size() == 1; }));
  EXPECT_EQ(agent_.stops()[0].job_id(), *id);
  EXPECT_EQ(agent_.stops()[0].grace_s(), 0);  // a failure: killed at once
}

TEST_F(CoordinatorServerTest, JobSucceedsAndCancelStopsAgents) {
  StartAgent();
  std::string node = RegisterVm();
  proto::JobSpec spec;
  spec.set_name("a");
  spec.set_procs_per_node(2);
  spec.set_nodes_min(1);
  auto first = client_->LaunchJob(spec);
  auto second = client_->LaunchJob(spec);  // waits for the node
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return StateOf(*first) == proto::JOB_RUNNING; }));
  EXPECT_EQ(StateOf(*second), proto::JOB_PENDING);
  for (int r = 0; r < 2; ++r) {
    proto::WorkerExit ok;
    ok.set_rank(r);
    ASSERT_THAT(client_->ReportWorkerExit(node, *first, 0, ok), IsOk());
  }
  EXPECT_EQ(StateOf(*first), proto::JOB_SUCCEEDED);
  // The node is free again: the second job starts, then is cancelled.
  ASSERT_TRUE(
      WaitUntil([&] { return StateOf(*second) == proto::JOB_RUNNING; }));
  ASSERT_THAT(client_->CancelJob(*second, "user pressed Ctrl-C"), IsOk());
  auto st = client_->GetJobStatus(*second);
  ASSERT_THAT(st, IsOk());
  EXPECT_EQ(st->state(), proto::JOB_CANCELLED);
  EXPECT_EQ(st->reason(), "user pressed Ctrl-C");
  ASSERT_TRUE(WaitUntil([&] { return agent_.stops().size() == 1; }));
  EXPECT_EQ(agent_.stops()[0].job_id(), *second);
  EXPECT_EQ(client_->CancelJob("j-none").code(), StatusCode::kNotFound);
  // An ended job's rendezvous namespace is gone.
  CoordinatorKvStore kv(server_->address(), kToken, *first, 0);
  EXPECT_EQ(kv.Set("k", "v").code(), StatusCode::kNotFound);
}

TEST(CoordinatorServerLivenessTest, NodeThatStopsHeartbeatingFailsItsJob) {
  RecordingAgent agent;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", rpc::MakeServerCredentials(), &port);
  builder.RegisterService(&agent);
  std::unique_ptr<grpc::Server> agent_server = builder.BuildAndStart();
  ASSERT_NE(agent_server, nullptr);

  CoordinatorOptions options;
  options.token = kToken;
  options.heartbeat_s = 0.05;
  options.missed_heartbeats_before_lost = 2;
  auto server = CoordinatorServer::Start(options);
  ASSERT_THAT(server, IsOk());
  CoordinatorClient client((*server)->address(), kToken);
  proto::NodeInventory inv;
  inv.set_hostname("vm");
  auto node = client.RegisterNode(inv, "127.0.0.1:" + std::to_string(port));
  ASSERT_THAT(node, IsOk());
  EXPECT_DOUBLE_EQ(node->heartbeat_s(), 0.05);
  proto::JobSpec spec;
  spec.set_name("j");
  spec.set_procs_per_node(1);
  spec.set_nodes_min(1);
  auto id = client.LaunchJob(spec);
  ASSERT_THAT(id, IsOk());
  // No heartbeats: within a few intervals the node is lost.
  proto::JobStatus st;
  ASSERT_TRUE(WaitUntil([&] {
    auto s = client.GetJobStatus(*id);
    if (s.ok()) st = *s;
    return s.ok() && s->state() == proto::JOB_FAILED;
  }));
  EXPECT_EQ(st.reason(), "node vm stopped heartbeating");
  auto known = client.Heartbeat(node->node_id(), {});
  ASSERT_THAT(known, IsOk());
  EXPECT_FALSE(*known);
  (*server)->Shutdown();
  agent_server->Shutdown();
}

TEST_F(CoordinatorServerTest, KvOperationsThroughTheRpcs) {
  std::string job = PendingJob();
  CoordinatorKvStore kv(server_->address(), kToken, job, 0);
  ASSERT_THAT(kv.Set("addr/0", "127.0.0.1:1234"), IsOk());
  auto got = kv.Get("addr/0", seconds(5));
  ASSERT_THAT(got, IsOk()) << got.status().ToString();
  EXPECT_EQ(*got, "127.0.0.1:1234");
  EXPECT_EQ(*kv.Add("count", 2), 2);
  EXPECT_EQ(*kv.Add("count", 3), 5);
  EXPECT_EQ(*kv.Get("count", seconds(1)), "5");
  EXPECT_EQ(*kv.CompareSet("cas", "", "first"), "first");
  EXPECT_EQ(*kv.CompareSet("cas", "wrong", "x"), "first");
  EXPECT_EQ(*kv.CompareSet("cas", "first", "second"), "second");
  EXPECT_EQ(*kv.CompareSet("absent", "e", "d"), "e");
  EXPECT_TRUE(*kv.Check({"addr/0", "count"}));
  EXPECT_FALSE(*kv.Check({"addr/0", "absent"}));
  EXPECT_EQ(*kv.NumKeys(), 3);
  EXPECT_TRUE(*kv.Delete("cas"));
  EXPECT_FALSE(*kv.Delete("cas"));
  EXPECT_EQ(*kv.NumKeys(), 2);
  // Binary values survive.
  std::string bytes("\0\1\2\xff", 4);
  ASSERT_THAT(kv.Set("bin", bytes), IsOk());
  EXPECT_EQ(*kv.Get("bin", seconds(1)), bytes);

  // Keys are scoped to the attempt: attempt 1 does not see attempt 0's.
  CoordinatorKvStore next(server_->address(), kToken, job, 1);
  EXPECT_FALSE(*next.Check({"addr/0"}));
  ASSERT_THAT(next.Set("addr/0", "other"), IsOk());
  EXPECT_EQ(*kv.Get("addr/0", seconds(1)), "127.0.0.1:1234");
  EXPECT_EQ(*next.Get("addr/0", seconds(1)), "other");

  CoordinatorKvStore unknown(server_->address(), kToken, "j-none", 0);
  EXPECT_EQ(unknown.Set("k", "v").code(), StatusCode::kNotFound);
}

TEST_F(CoordinatorServerTest, KvWaitCompletesWhenAnotherClientSets) {
  std::string job = PendingJob();
  CoordinatorKvStore waiter(server_->address(), kToken, job, 0);
  CoordinatorKvStore setter(server_->address(), kToken, job, 0);
  ASSERT_THAT(setter.Set("a", "1"), IsOk());
  auto done = std::async(std::launch::async, [&] {
    return waiter.Wait({"a", "b"}, seconds(20));
  });
  // The server holds the wait (no thread blocked on it) until b is set.
  ASSERT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 1; }));
  EXPECT_EQ(done.wait_for(milliseconds(0)), std::future_status::timeout);
  ASSERT_THAT(setter.Set("b", "2"), IsOk());
  ASSERT_EQ(done.wait_for(seconds(10)), std::future_status::ready);
  Status s = done.get();
  EXPECT_THAT(s, IsOk()) << s.ToString();
  EXPECT_EQ(server_->pending_rendezvous_waits(), 0u);
  // Get waits the same way.
  auto get = std::async(std::launch::async,
                        [&] { return waiter.Get("late", seconds(20)); });
  ASSERT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 1; }));
  ASSERT_THAT(setter.Set("late", "value"), IsOk());
  ASSERT_EQ(get.wait_for(seconds(10)), std::future_status::ready);
  auto value = get.get();
  ASSERT_THAT(value, IsOk()) << value.status().ToString();
  EXPECT_EQ(*value, "value");
}

TEST_F(CoordinatorServerTest, ManyWaitsHoldNoServerThreads) {
  // More parked waits than gRPC has callback threads: if a wait blocked a
  // thread, the Set that releases them could not be served.
  std::string job = PendingJob();
  constexpr int kWaiters = 64;
  CoordinatorKvStore kv(server_->address(), kToken, job, 0);
  std::vector<std::future<Status>> waits;
  for (int i = 0; i < kWaiters; ++i) {
    waits.push_back(std::async(std::launch::async,
                               [&] { return kv.Wait({"go"}, seconds(30)); }));
  }
  ASSERT_TRUE(WaitUntil(
      [&] { return server_->pending_rendezvous_waits() == kWaiters; }));
  ASSERT_THAT(kv.Set("go", ""), IsOk());
  for (auto& w : waits) {
    ASSERT_EQ(w.wait_for(seconds(10)), std::future_status::ready);
    EXPECT_THAT(w.get(), IsOk());
  }
}

TEST_F(CoordinatorServerTest, KvWaitTimeoutNamesTheMissingKeys) {
  std::string job = PendingJob();
  CoordinatorKvStore kv(server_->address(), kToken, job, 0);
  ASSERT_THAT(kv.Set("rank/1", "x"), IsOk());
  Status s = kv.Wait({"rank/0", "rank/1", "rank/2"}, milliseconds(300));
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(s.message().find("`rank/0`, `rank/2`"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("rank/1`"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("a0/"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(job), std::string::npos) << s.message();

  auto g = kv.Get("never", milliseconds(200));
  EXPECT_EQ(g.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(g.status().message().find("`never`"), std::string::npos);
  // The deadline cancelled the server's waiters too.
  EXPECT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 0; }));
}

TEST_F(CoordinatorServerTest, AFenceAnswersEveryCallerOnceAllRanksJoined) {
  std::string job = PendingJob();
  auto stub = proto::Coordinator::NewStub(rpc::MakeChannel(server_->address()));
  const auto fence = [&](std::vector<int> ranks, std::vector<int> want,
                         int world, proto::KvFenceResponse* out) {
    grpc::ClientContext ctx;
    rpc::AddToken(&ctx, kToken);
    ctx.set_deadline(rpc::DeadlineAfter(seconds(20)));
    proto::KvFenceRequest req;
    req.set_job_id(job);
    req.set_name("boot");
    req.set_world(world);
    for (int r : ranks) {
      proto::KvFenceRecord* c = req.add_contributions();
      c->set_rank(r);
      c->set_record("rec" + std::to_string(r));
    }
    for (int r : want) req.add_want(r);
    return stub->KvFence(&ctx, req, out);
  };
  // A node's three ranks in one call; it waits for the fourth.
  proto::KvFenceResponse node_a, again, node_b;
  auto first = std::async(std::launch::async, [&] {
    return fence({0, 1, 2}, {3}, 4, &node_a);
  });
  ASSERT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 1; }));
  // Rank 2 again (a retry): counted once, so the fence is still open.
  auto retry = std::async(std::launch::async,
                          [&] { return fence({2}, {2}, 4, &again); });
  ASSERT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 2; }));
  grpc::Status last = fence({3}, {0, 1}, 4, &node_b);
  ASSERT_TRUE(last.ok()) << last.error_message();
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(retry.get().ok());
  ASSERT_EQ(node_a.records_size(), 1);
  EXPECT_EQ(node_a.records(0).rank(), 3);
  EXPECT_EQ(node_a.records(0).record(), "rec3");
  ASSERT_EQ(node_b.records_size(), 2);
  EXPECT_EQ(node_b.records(1).record(), "rec1");
  {  // The fence's keys are plain keys of the job's namespace.
    grpc::ClientContext ctx;
    rpc::AddToken(&ctx, kToken);
    proto::KvGetRequest req;
    req.set_job_id(job);
    req.set_key("boot/count");
    proto::KvGetResponse resp;
    ASSERT_TRUE(stub->KvGet(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.value(), "4");
  }

  // What cannot be a fence is refused naming the field.
  proto::KvFenceResponse none;
  grpc::Status bad = fence({5}, {}, 4, &none);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("rank 5 is outside a world of 4"),
            std::string::npos)
      << bad.error_message();
  EXPECT_EQ(fence({}, {}, 4, &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(CoordinatorServerTest, EndingTheJobReleasesItsWaiters) {
  std::string job = PendingJob();
  CoordinatorKvStore kv(server_->address(), kToken, job, 0);
  auto done = std::async(std::launch::async,
                         [&] { return kv.Wait({"never"}, seconds(30)); });
  ASSERT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 1; }));
  ASSERT_THAT(client_->CancelJob(job, "stop"), IsOk());
  ASSERT_EQ(done.wait_for(seconds(10)), std::future_status::ready);
  Status s = done.get();
  EXPECT_EQ(s.code(), StatusCode::kAborted);
  EXPECT_NE(s.message().find("stop"), std::string::npos) << s.message();
}

TEST_F(CoordinatorServerTest, ShutdownReleasesParkedWaits) {
  std::string job = PendingJob();
  CoordinatorKvStore kv(server_->address(), kToken, job, 0);
  auto done = std::async(std::launch::async,
                         [&] { return kv.Wait({"never"}, seconds(2)); });
  ASSERT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  server_->Shutdown();
  server_->Shutdown();  // idempotent
  server_->Wait();      // returns once shut down
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));
  ASSERT_EQ(done.wait_for(seconds(10)), std::future_status::ready);
  EXPECT_THAT(done.get(), Not(IsOk()));
}

TEST_F(CoordinatorServerTest, WrongOrMissingTokenIsRefusedEverywhere) {
  std::string job = PendingJob();
  CoordinatorClient bad(server_->address(), "wrong-token");
  proto::NodeInventory inv;
  auto expect_unauth = [](const Status& s, const char* what) {
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated)
        << what << ": " << s.ToString();
  };
  expect_unauth(bad.RegisterNode(inv, "x:1").status(), "RegisterNode");
  expect_unauth(bad.Heartbeat("n-1", {}).status(), "Heartbeat");
  expect_unauth(bad.LaunchJob(proto::JobSpec()).status(), "LaunchJob");
  expect_unauth(bad.GetJobStatus(job).status(), "GetJobStatus");
  expect_unauth(bad.CancelJob(job), "CancelJob");
  expect_unauth(bad.ReportMetrics(proto::ReportMetricsRequest()),
                "ReportMetrics");
  expect_unauth(bad.ReportWorkerExit("n-1", job, 0, proto::WorkerExit()),
                "ReportWorkerExit");

  CoordinatorKvStore kv(server_->address(), "wrong-token", job, 0);
  expect_unauth(kv.Set("k", "v"), "KvSet");
  expect_unauth(kv.Get("k", seconds(1)).status(), "KvWait via Get");
  expect_unauth(kv.Add("k", 1).status(), "KvAdd");
  expect_unauth(kv.CompareSet("k", "", "v").status(), "KvCompareSet");
  expect_unauth(kv.Delete("k").status(), "KvDelete");
  expect_unauth(kv.Check({"k"}).status(), "KvCheck");
  expect_unauth(kv.NumKeys().status(), "KvCheck (NumKeys)");
  expect_unauth(kv.Wait({"k"}, seconds(1)), "KvWait");
  EXPECT_EQ(StateOf(job),
            proto::JOB_PENDING);  // the refused cancel did nothing

  // No metadata at all, straight through a stub.
  auto stub = proto::Coordinator::NewStub(rpc::MakeChannel(server_->address()));
  {
    grpc::ClientContext ctx;
    proto::KvGetRequest req;
    req.set_job_id(job);
    proto::KvGetResponse resp;
    grpc::Status g = stub->KvGet(&ctx, req, &resp);
    EXPECT_EQ(g.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(g.error_message().find("missing"), std::string::npos);
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(rpc::DeadlineAfter(seconds(5)));
    proto::KvWaitRequest req;
    req.set_job_id(job);
    req.add_keys("k");
    proto::KvWaitResponse resp;
    EXPECT_EQ(stub->KvWait(&ctx, req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    proto::LaunchJobRequest req;
    proto::LaunchJobResponse resp;
    EXPECT_EQ(stub->LaunchJob(&ctx, req, &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_EQ(server_->pending_rendezvous_waits(), 0u);
}

// A coordinator with a state directory stops in the middle of a job's
// rendezvous and starts again on the same directory and port: the job's
// workers keep their credential, their agent gets its node back with the
// workers re-adopted, and the rendezvous completes: a wait that was parked
// across the restart returns, and each rank's keys and counter
// contributions are written again into the new coordinator.
TEST_F(CoordinatorServerTest, ARendezvousUnderWayCompletesAcrossARestart) {
  char tmpl[] = "/tmp/dstrain_coord_restart_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string state = std::string(tmpl) + "/state";
  const auto start_on = [&](const std::string& listen) {
    if (server_) server_->Shutdown();
    server_.reset();  // releases the store and its lock
    StatusOr<std::unique_ptr<SqliteStateStore>> store =
        SqliteStateStore::Open(state);
    ASSERT_THAT(store, IsOk());
    CoordinatorOptions o;
    o.listen_address = listen;
    o.token = kToken;
    o.store = std::shared_ptr<StateStore>(std::move(store).value());
    // The old server's listening socket may take a moment to close.
    StatusOr<std::unique_ptr<CoordinatorServer>> started =
        Unavailable("not started");
    ASSERT_TRUE(WaitUntil(
        [&] {
          started = CoordinatorServer::Start(o);
          return started.ok() ||
                 started.status().code() != StatusCode::kUnavailable;
        },
        seconds(10)));
    ASSERT_THAT(started, IsOk());
    server_ = std::move(started).value();
    client_ = std::make_unique<CoordinatorClient>(server_->address(), kToken);
  };
  ASSERT_NO_FATAL_FAILURE(start_on("127.0.0.1:0"));
  const std::string address = server_->address();
  StartAgent();
  const std::string node = RegisterVm();
  proto::JobSpec spec;
  spec.set_name("rdzv");
  spec.set_procs_per_node(2);
  spec.set_nodes_min(1);
  spec.set_nodes_max(1);
  auto id = client_->LaunchJob(spec);
  ASSERT_THAT(id, IsOk());
  ASSERT_TRUE(WaitUntil([&] { return StateOf(*id) == proto::JOB_RUNNING; }));
  const std::string job_token = agent_.starts().at(0).job_token();
  CoordinatorKvStore rank0(address, job_token, *id, 0);
  CoordinatorKvStore rank1(address, job_token, *id, 0);
  ASSERT_THAT(rank0.Set("addr/0", "a0"), IsOk());
  ASSERT_THAT(rank0.Add("arrived", 1), IsOk());
  std::future<Status> waiting = std::async(
      std::launch::async, [&] { return rank0.Wait({"ready"}, seconds(60)); });
  ASSERT_TRUE(
      WaitUntil([&] { return server_->pending_rendezvous_waits() == 1; }));

  ASSERT_NO_FATAL_FAILURE(start_on(address));
  ASSERT_EQ(server_->address(), address);
  // The agent registers again with the two workers it still runs.
  proto::NodeInventory inv;
  inv.set_hostname("vm");
  proto::RunningJob running;
  running.set_job_id(*id);
  running.add_ranks(0);
  running.add_ranks(1);
  auto again = client_->RegisterNode(inv, agent_address_, node, {running});
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->node_id(), node);
  EXPECT_EQ(again->stop_jobs_size(), 0);
  EXPECT_EQ(StateOf(*id), proto::JOB_RUNNING);

  // Rank 1 arrives at the new coordinator; rank 0's parked wait has
  // reconnected and put rank 0's key and count back.
  ASSERT_THAT(rank1.Set("addr/1", "a1"), IsOk());
  StatusOr<std::string> a0 = rank1.Get("addr/0", seconds(30));
  ASSERT_THAT(a0, IsOk());
  EXPECT_EQ(*a0, "a0");
  // Rank 0 replays its key, then its count: an Add of rank 1's between the
  // two would see 1 (see CoordinatorKvStore's limits), so rank 1 waits
  // for the count.
  ASSERT_TRUE(WaitUntil([&] {
    StatusOr<std::string> n = rank1.Get("arrived", seconds(1));
    return n.ok() && *n == "1";
  }));
  StatusOr<std::int64_t> arrived = rank1.Add("arrived", 1);
  ASSERT_THAT(arrived, IsOk());
  EXPECT_EQ(*arrived, 2);
  ASSERT_THAT(rank1.Set("ready", "1"), IsOk());
  ASSERT_EQ(waiting.wait_for(seconds(30)), std::future_status::ready);
  EXPECT_THAT(waiting.get(), IsOk());
  StatusOr<std::string> a1 = rank0.Get("addr/1", seconds(5));
  ASSERT_THAT(a1, IsOk());
  EXPECT_EQ(*a1, "a1");
  // Replays never overwrite: rank 1's newer value of a key stays.
  ASSERT_THAT(rank1.Set("addr/0", "moved"), IsOk());
  StatusOr<std::string> moved = rank0.Get("addr/0", seconds(5));
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(*moved, "moved");

  server_->Shutdown();
  server_.reset();
  std::system(("rm -rf " + std::string(tmpl)).c_str());
}

}  // namespace
}  // namespace dstrain::coordinator
