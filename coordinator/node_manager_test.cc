#include "coordinator/node_manager.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "coordinator/state/in_memory_state_store.h"

namespace dstrain::coordinator {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;

using std::chrono::milliseconds;
using std::chrono::seconds;

proto::NodeInventory Host(const std::string& name) {
  proto::NodeInventory inv;
  inv.set_hostname(name);
  inv.set_cpus(2);
  return inv;
}

// Registers and returns the id ("" with a test failure when refused).
std::string Add(NodeManager& nodes, const std::string& host,
                const std::string& address) {
  StatusOr<std::string> id = nodes.Register(Host(host), address);
  EXPECT_THAT(id, IsOk());
  return id.ok() ? *id : "";
}

TEST(NodeManagerTest, RegisterAssignsIdsInOrder) {
  FakeClock clock;
  NodeManager nodes(&clock, seconds(2), 3);
  std::string a = Add(nodes, "a", "127.0.0.1:1");
  std::string b = Add(nodes, "b", "127.0.0.1:2");
  EXPECT_NE(a, b);
  std::vector<NodeInfo> live = nodes.LiveNodes();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].node_id, a);
  EXPECT_EQ(live[0].host(), "a");
  EXPECT_EQ(live[0].agent_address, "127.0.0.1:1");
  EXPECT_EQ(live[1].node_id, b);
  EXPECT_LT(live[0].order, live[1].order);
}

TEST(NodeManagerTest, HeartbeatKnownOnlyForRegisteredNodes) {
  FakeClock clock;
  NodeManager nodes(&clock, seconds(2), 3);
  std::string a = Add(nodes, "a", "x:1");
  EXPECT_TRUE(nodes.Heartbeat(a, {0, 1}));
  EXPECT_FALSE(nodes.Heartbeat("n-999", {}));
  std::optional<NodeInfo> info = nodes.Get(a);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->running_ranks, (std::vector<int>{0, 1}));
}

TEST(NodeManagerTest, NodeIsLostAfterMissedIntervalsAndOnlyThen) {
  FakeClock clock;
  NodeManager nodes(&clock, seconds(2), 3);  // lost after 6 s of silence
  std::string a = Add(nodes, "a", "x:1");
  std::string b = Add(nodes, "b", "x:2");

  clock.Advance(seconds(5));
  EXPECT_TRUE(nodes.CheckLiveness().empty());
  ASSERT_TRUE(nodes.Heartbeat(a, {}));  // a keeps beating, b goes silent
  clock.Advance(seconds(1));            // b: exactly 6 s, not yet lost
  EXPECT_TRUE(nodes.CheckLiveness().empty());
  clock.Advance(milliseconds(1));
  EXPECT_EQ(nodes.CheckLiveness(), std::vector<std::string>{b});
  // Reported once, then remembered as lost.
  EXPECT_TRUE(nodes.CheckLiveness().empty());
  EXPECT_FALSE(nodes.Heartbeat(b, {}));  // must register again
  std::vector<NodeInfo> live = nodes.LiveNodes();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].node_id, a);
  std::vector<NodeInfo> all = nodes.List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_FALSE(all[1].alive);

  clock.Advance(seconds(6) + milliseconds(1));
  EXPECT_EQ(nodes.CheckLiveness(), std::vector<std::string>{a});
  EXPECT_TRUE(nodes.LiveNodes().empty());
}

TEST(NodeManagerTest, ReRegisteredNodeGetsANewId) {
  FakeClock clock;
  NodeManager nodes(&clock, seconds(1), 1);
  std::string a = Add(nodes, "a", "x:1");
  clock.Advance(seconds(2));
  ASSERT_EQ(nodes.CheckLiveness().size(), 1u);
  std::string again = Add(nodes, "a", "x:1");
  EXPECT_NE(again, a);
  EXPECT_TRUE(nodes.Heartbeat(again, {}));
}

// Every registration and every lost node is in the store when the call
// returns.
TEST(NodeManagerTest, RegistrationsAndLostNodesAreRecorded) {
  FakeClock clock;
  InMemoryStateStore store;
  NodeManager nodes(&clock, seconds(1), 3, &store);  // lost after 3 s
  const std::string a = Add(nodes, "a", "x:1");
  clock.Advance(seconds(2));
  const std::string b = Add(nodes, "b", "x:2");
  clock.Advance(seconds(1) + milliseconds(1));
  ASSERT_EQ(nodes.CheckLiveness(), std::vector<std::string>{a});
  StatusOr<StoredState> s = store.Load();
  ASSERT_THAT(s, IsOk());
  ASSERT_EQ(s->nodes.size(), 2u);
  EXPECT_EQ(s->nodes[0].id, a);
  EXPECT_EQ(s->nodes[0].ordinal, 1);
  EXPECT_EQ(s->nodes[0].inventory.hostname(), "a");
  EXPECT_EQ(s->nodes[0].agent_address, "x:1");
  EXPECT_TRUE(s->nodes[0].lost);
  EXPECT_EQ(s->nodes[1].id, b);
  EXPECT_FALSE(s->nodes[1].lost);
  EXPECT_EQ(s->nodes[1].registered_us - s->nodes[0].registered_us, 2000000);
}

// An earlier run's live nodes come back awaiting their agents: not
// schedulable, heartbeats answered "register again", and new ids continue
// after theirs. An agent naming its previous id (and the same hostname)
// gets it back; the others that do not come back in time are lost.
TEST(NodeManagerTest, RestoredNodesAwaitTheirAgentsAndIdsContinue) {
  FakeClock clock;
  InMemoryStateStore store;
  {
    NodeManager before(&clock, seconds(2), 3, &store);
    Add(before, "a", "x:1");
    Add(before, "b", "x:2");
    Add(before, "c", "x:3");
    clock.Advance(seconds(7));
    ASSERT_EQ(before.CheckLiveness().size(), 3u);
    Add(before, "c", "x:3");  // c came back in that run: n-4
    Add(before, "a", "x:1");  // and a: n-5
  }
  StatusOr<StoredState> s = store.Load();
  ASSERT_THAT(s, IsOk());
  NodeManager nodes(&clock, seconds(2), 3, &store, seconds(30));
  ASSERT_THAT(nodes.Restore(s->nodes), IsOk());
  EXPECT_TRUE(nodes.LiveNodes().empty());
  EXPECT_FALSE(nodes.Heartbeat("n-4", {}));  // "register again"
  ASSERT_EQ(nodes.List().size(), 5u);
  EXPECT_TRUE(nodes.List()[3].awaiting);
  EXPECT_FALSE(nodes.List()[0].awaiting);  // lost before the restart

  // n-4's agent is back under its id, with its new address.
  StatusOr<std::string> c = nodes.Register(Host("c"), "x:33", "n-4");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(*c, "n-4");
  EXPECT_TRUE(nodes.Heartbeat("n-4", {}));
  ASSERT_EQ(nodes.LiveNodes().size(), 1u);
  EXPECT_EQ(nodes.LiveNodes()[0].agent_address, "x:33");
  // A node lost before the restart, or another host's id, is not given
  // back: a new id.
  EXPECT_THAT(nodes.Register(Host("a"), "x:1", "n-1"), IsOk());
  EXPECT_EQ(nodes.List().back().node_id, "n-6");
  StatusOr<std::string> wrong = nodes.Register(Host("b"), "x:2", "n-5");
  ASSERT_THAT(wrong, IsOk());
  EXPECT_EQ(*wrong, "n-7");

  // n-5 ("a") never comes back: lost once the grace is over, and only then.
  clock.Advance(seconds(29));
  (void)nodes.Heartbeat("n-4", {});
  (void)nodes.Heartbeat("n-6", {});
  (void)nodes.Heartbeat("n-7", {});
  EXPECT_TRUE(nodes.CheckLiveness().empty());
  clock.Advance(seconds(2));
  (void)nodes.Heartbeat("n-4", {});
  (void)nodes.Heartbeat("n-6", {});
  (void)nodes.Heartbeat("n-7", {});
  EXPECT_EQ(nodes.CheckLiveness(), std::vector<std::string>{"n-5"});
  EXPECT_TRUE(nodes.CheckLiveness().empty());  // once

  StatusOr<StoredState> after = store.Load();
  ASSERT_THAT(after, IsOk());
  ASSERT_EQ(after->nodes.size(), 7u);
  EXPECT_FALSE(after->nodes[3].lost);
  EXPECT_EQ(after->nodes[3].agent_address, "x:33");
  EXPECT_TRUE(after->nodes[4].lost);
  EXPECT_THAT(nodes.Restore({}), StatusIs(StatusCode::kFailedPrecondition));
}

// Counts the store's heartbeat writes.
class HeartbeatCountingStore : public InMemoryStateStore {
 public:
  Status RecordHeartbeats(
      const std::vector<std::pair<std::string, std::int64_t>>& times) override {
    ++writes;
    last_batch = times.size();
    return InMemoryStateStore::RecordHeartbeats(times);
  }
  int writes = 0;
  std::size_t last_batch = 0;
};

// Heartbeats reach the store as one write per interval holding every node
// that beat, and a restarted coordinator reads the latest time back.
TEST(NodeManagerTest, HeartbeatsAreWrittenInOneBatchPerInterval) {
  FakeClock clock;
  HeartbeatCountingStore store;
  NodeManager nodes(&clock, seconds(2), 3, &store);
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(Add(nodes, "h" + std::to_string(i), "x:1"));
  }
  for (int round = 0; round < 3; ++round) {
    clock.Advance(milliseconds(500));
    for (const std::string& id : ids) ASSERT_TRUE(nodes.Heartbeat(id, {}));
    EXPECT_TRUE(nodes.CheckLiveness().empty());
  }
  // 300 heartbeats in 1.5 s: the first tick wrote them, the next two
  // ticks were within the interval.
  EXPECT_EQ(store.writes, 1);
  EXPECT_EQ(store.last_batch, 100u);
  clock.Advance(seconds(2));
  ASSERT_TRUE(nodes.Heartbeat(ids[7], {}));
  const std::int64_t beat = clock.UnixMicros();
  (void)nodes.CheckLiveness();
  EXPECT_EQ(store.writes, 2);
  EXPECT_EQ(store.last_batch, 100u);  // each node's latest beat, once
  StatusOr<StoredState> state = store.Load();
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->nodes[7].last_heartbeat_us, beat);
  NodeManager restarted(&clock, seconds(2), 3, &store);
  ASSERT_THAT(restarted.Restore(state->nodes), IsOk());
  EXPECT_EQ(restarted.Get(ids[7])->last_heartbeat_unix_us, beat);
}

class RefusingStore : public InMemoryStateStore {
 public:
  Status PutNode(const StoredNode&) override {
    return Unavailable("state store: disk full");
  }
};

// A node the store could not record is not added, and its id is not used
// up.
TEST(NodeManagerTest, ARegistrationTheStoreRefusesAddsNothing) {
  FakeClock clock;
  RefusingStore store;
  NodeManager nodes(&clock, seconds(2), 3, &store);
  EXPECT_THAT(nodes.Register(Host("a"), "x:1"),
              StatusIs(StatusCode::kUnavailable, "state store: disk full"));
  EXPECT_TRUE(nodes.List().empty());
}

}  // namespace
}  // namespace dstrain::coordinator
