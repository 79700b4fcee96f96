// The rendezvous relay between a real CoordinatorServer and ranks' real
// CoordinatorKvStores, all on loopback: every operation answers as the
// coordinator itself would; the node's ranks cost the coordinator one
// batch per window and one wait per barrier key; credentials are the
// coordinator's to check; and a rendezvous under way completes across a
// coordinator restart through the relay (the instance id is handed on, so
// the ranks replay their keys).
#include "agent/rendezvous_relay.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <future>
#include <memory>
#include <thread>

#include "agent/rendezvous_relay_service.h"
#include "common/rpc/channel.h"
#include "common/testing/status_matchers.h"
#include "coordinator/client/coordinator_client.h"
#include "coordinator/client/coordinator_kv_store.h"
#include "coordinator/coordinator_server.h"
#include "coordinator/state/sqlite_state_store.h"
#include "tests/util/wait_for.h"

namespace dstrain::agent {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using namespace std::chrono_literals;
using coordinator::CoordinatorKvStore;

constexpr char kToken[] = "relay-test-token";

class RendezvousRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartCoordinator("127.0.0.1:0");
    relay_ = std::make_unique<RendezvousRelay>(
        rpc::MakeChannel(server_->address()), RelayOptions{.window = 5ms});
    service_ = std::make_unique<RendezvousRelayService>(relay_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", rpc::MakeServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    relay_server_ = builder.BuildAndStart();
    ASSERT_NE(relay_server_, nullptr);
    relay_address_ = "127.0.0.1:" + std::to_string(port);
    // A job to rendezvous in: pending (no node), its namespace open.
    coordinator::CoordinatorClient client(server_->address(), kToken);
    proto::JobSpec spec;
    spec.set_name("relayed");
    spec.set_procs_per_node(8);
    spec.set_nodes_min(1);
    StatusOr<std::string> id = client.LaunchJob(spec);
    ASSERT_THAT(id, IsOk());
    job_ = *id;
  }
  void TearDown() override {
    if (relay_server_) relay_server_->Shutdown();
    if (relay_) relay_->Shutdown();
    if (server_) server_->Shutdown();
    server_.reset();
    if (!state_.empty()) std::system(("rm -rf " + state_).c_str());
  }
  // On a state directory of the test's own, so a restart keeps the job.
  void StartCoordinator(const std::string& listen) {
    if (state_.empty()) {
      char tmpl[] = "/tmp/dstrain_relay_test_XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl), nullptr);
      state_ = tmpl;
    }
    StatusOr<std::unique_ptr<coordinator::SqliteStateStore>> store =
        coordinator::SqliteStateStore::Open(state_ + "/state");
    ASSERT_THAT(store, IsOk());
    coordinator::CoordinatorOptions o;
    o.token = kToken;
    o.listen_address = listen;
    o.store =
        std::shared_ptr<coordinator::StateStore>(std::move(store).value());
    StatusOr<std::unique_ptr<coordinator::CoordinatorServer>> s =
        Unavailable("not started");
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          s = coordinator::CoordinatorServer::Start(o);
          return s.ok() || s.status().code() != StatusCode::kUnavailable;
        },
        10s));
    ASSERT_THAT(s, IsOk());
    server_ = std::move(s).value();
  }
  // Stops the coordinator and starts it again on its port and state.
  void RestartCoordinator() {
    const std::string address = server_->address();
    server_->Shutdown();
    server_.reset();
    StartCoordinator(address);
  }
  std::unique_ptr<CoordinatorKvStore> Rank(const std::string& token = kToken) {
    return std::make_unique<CoordinatorKvStore>(relay_address_, token, job_, 0);
  }

  std::unique_ptr<coordinator::CoordinatorServer> server_;
  std::unique_ptr<RendezvousRelay> relay_;
  std::unique_ptr<RendezvousRelayService> service_;
  std::unique_ptr<grpc::Server> relay_server_;
  std::string relay_address_, job_, state_;
};

TEST_F(RendezvousRelayTest, EveryOperationAnswersAsTheCoordinatorWould) {
  auto kv = Rank();
  ASSERT_THAT(kv->Set("a", "1"), IsOk());
  EXPECT_THAT(kv->Get("a", 1s), IsOk());
  EXPECT_EQ(*kv->Get("a", 1s), "1");
  EXPECT_EQ(*kv->Add("n", 5), 5);
  EXPECT_EQ(*kv->Add("n", -2), 3);
  EXPECT_EQ(*kv->CompareSet("a", "1", "2"), "2");
  EXPECT_EQ(*kv->CompareSet("a", "1", "3"), "2");
  EXPECT_EQ(*kv->Check({"a", "n"}), true);
  EXPECT_EQ(*kv->Check({"a", "zz"}), false);
  EXPECT_EQ(*kv->NumKeys(), 2);
  EXPECT_EQ(*kv->Delete("a"), true);
  EXPECT_EQ(*kv->Delete("a"), false);
  EXPECT_THAT(
      kv->Wait({"never"}, 200ms),
      StatusIs(StatusCode::kDeadlineExceeded, ::testing::HasSubstr("`never`")));
  // Through the relay, the coordinator sees the same store.
  CoordinatorKvStore direct(server_->address(), kToken, job_, 0);
  EXPECT_EQ(*direct.Get("n", 1s), "3");
}

TEST_F(RendezvousRelayTest, ANodesRanksCostTheCoordinatorABatchAndOneWait) {
  constexpr int kRanks = 8;
  std::vector<std::unique_ptr<CoordinatorKvStore>> ranks;
  for (int r = 0; r < kRanks; ++r) ranks.push_back(Rank());
  std::vector<std::future<Status>> done;
  for (int r = 0; r < kRanks; ++r) {
    done.push_back(std::async(std::launch::async, [&, r]() -> Status {
      CoordinatorKvStore& kv = *ranks[r];
      DSTRAIN_RETURN_IF_ERROR(kv.Set("addr/" + std::to_string(r), "x"));
      DSTRAIN_ASSIGN_OR_RETURN(std::int64_t n, kv.Add("arrived", 1));
      if (n == kRanks) DSTRAIN_RETURN_IF_ERROR(kv.Set("ready", "1"));
      DSTRAIN_RETURN_IF_ERROR(kv.Wait({"ready"}, 30s));
      return kv.Get("addr/" + std::to_string((r + 1) % kRanks), 30s).status();
    }));
  }
  for (auto& d : done) EXPECT_THAT(d.get(), IsOk());
  const RendezvousRelay::Counters c = relay_->counters();
  EXPECT_EQ(c.ops, 3u * kRanks + 1);  // set, add, get (x8), and one "ready"
  EXPECT_LT(c.batches, c.ops / 2) << "the ranks' operations were not batched";
  EXPECT_EQ(c.waits, static_cast<std::uint64_t>(kRanks));
  EXPECT_LT(c.upstream_waits, c.waits) << "waits for one key were not shared";
}

TEST_F(RendezvousRelayTest, CredentialsAreTheCoordinatorsToCheck) {
  auto wrong = Rank("not-the-token");
  EXPECT_THAT(wrong->Set("a", "1"), StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(wrong->Wait({"a"}, 1s), StatusIs(StatusCode::kUnauthenticated));
  // The right one, in the same window, is not refused with it.
  auto right = Rank();
  EXPECT_THAT(right->Set("a", "1"), IsOk());
}

TEST_F(RendezvousRelayTest, ARendezvousCompletesAcrossACoordinatorRestart) {
  auto rank0 = Rank();
  auto rank1 = Rank();
  ASSERT_THAT(rank0->Set("addr/0", "a0"), IsOk());
  ASSERT_THAT(rank0->Add("arrived", 1), IsOk());
  std::future<Status> waiting = std::async(
      std::launch::async, [&] { return rank0->Wait({"ready"}, 60s); });
  ASSERT_TRUE(testing::WaitFor(
      [&] { return server_->pending_rendezvous_waits() == 1; }, 10s));
  // The coordinator restarts on its port and state: the pending job is
  // back, its keys are not.
  ASSERT_NO_FATAL_FAILURE(RestartCoordinator());
  ASSERT_THAT(rank1->Set("addr/1", "a1"), IsOk());
  StatusOr<std::string> a0 = rank1->Get("addr/0", 30s);
  ASSERT_THAT(a0, IsOk());
  EXPECT_EQ(*a0, "a0");
  StatusOr<std::int64_t> arrived = rank1->Add("arrived", 1);
  ASSERT_THAT(arrived, IsOk());
  EXPECT_EQ(*arrived, 2);
  ASSERT_THAT(rank1->Set("ready", "1"), IsOk());
  ASSERT_EQ(waiting.wait_for(30s), std::future_status::ready);
  EXPECT_THAT(waiting.get(), IsOk());
}

TEST_F(RendezvousRelayTest, ANodesRanksJoinAFenceInOneCall) {
  constexpr int kNode = 8, kWorld = 10;
  // Ranks 8 and 9 are on another node and call the coordinator directly.
  std::vector<std::future<StatusOr<rendezvous::FenceRecords>>> ranks;
  for (int r = 0; r < kWorld; ++r) {
    ranks.push_back(std::async(std::launch::async, [this, r] {
      std::unique_ptr<CoordinatorKvStore> kv =
          r < kNode ? Rank()
                    : std::make_unique<CoordinatorKvStore>(server_->address(),
                                                           kToken, job_, 0);
      rendezvous::FenceRequest f;
      f.name = "boot";
      f.world = kWorld;
      f.rank = r;
      f.record = "addr of " + std::to_string(r);
      f.want = {(r + 1) % kWorld, (r + kWorld - 1) % kWorld};
      f.timeout = 20s;
      return kv->Fence(f);
    }));
  }
  for (int r = 0; r < kWorld; ++r) {
    StatusOr<rendezvous::FenceRecords> got = ranks[r].get();
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(got->at((r + 1) % kWorld),
              "addr of " + std::to_string((r + 1) % kWorld));
    EXPECT_EQ(got->at((r + kWorld - 1) % kWorld),
              "addr of " + std::to_string((r + kWorld - 1) % kWorld));
  }
  const RendezvousRelay::Counters c = relay_->counters();
  EXPECT_EQ(c.fence_joins, 8u);
  // The eight joins arrive within a few windows of each other; without
  // the relay they would be eight calls.
  EXPECT_LE(c.upstream_fences, 3u);
  EXPECT_GE(c.upstream_fences, 1u);
}

TEST_F(RendezvousRelayTest, AFenceWithAnotherJobsCredentialIsRefused) {
  auto kv = Rank("not-a-credential");
  rendezvous::FenceRequest f;
  f.name = "boot";
  f.world = 2;
  f.rank = 0;
  f.timeout = 5s;
  EXPECT_THAT(kv->Fence(f), StatusIs(StatusCode::kUnauthenticated));
}

TEST_F(RendezvousRelayTest, AFenceUnderWayCompletesAcrossACoordinatorRestart) {
  const auto join = [this](int rank) {
    return std::async(std::launch::async, [this, rank] {
      rendezvous::FenceRequest f;
      f.name = "boot";
      f.world = 2;
      f.rank = rank;
      f.record = "r" + std::to_string(rank);
      f.want = {0, 1};
      f.timeout = 60s;
      return Rank()->Fence(f);
    });
  };
  auto first = join(0);
  ASSERT_TRUE(testing::WaitFor(
      [&] { return server_->pending_rendezvous_waits() == 1; }, 10s));
  ASSERT_NO_FATAL_FAILURE(RestartCoordinator());
  // Rank 0's relayed call failed with the old coordinator and is sent
  // again to the new one, which counts it once.
  auto second = join(1);
  for (auto* f : {&first, &second}) {
    ASSERT_EQ(f->wait_for(30s), std::future_status::ready);
    StatusOr<rendezvous::FenceRecords> got = f->get();
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(got->at(0), "r0");
    EXPECT_EQ(got->at(1), "r1");
  }
}

}  // namespace
}  // namespace dstrain::agent
