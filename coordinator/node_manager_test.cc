#include "coordinator/node_manager.h"

#include <gtest/gtest.h>

namespace dstrain::coordinator {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

proto::NodeInventory Host(const std::string& name) {
  proto::NodeInventory inv;
  inv.set_hostname(name);
  inv.set_cpus(2);
  return inv;
}

TEST(NodeManagerTest, RegisterAssignsIdsInOrder) {
  FakeClock clock;
  NodeManager nodes(&clock, seconds(2), 3);
  std::string a = nodes.Register(Host("a"), "127.0.0.1:1");
  std::string b = nodes.Register(Host("b"), "127.0.0.1:2");
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
  std::string a = nodes.Register(Host("a"), "x:1");
  EXPECT_TRUE(nodes.Heartbeat(a, {0, 1}));
  EXPECT_FALSE(nodes.Heartbeat("n-999", {}));
  std::optional<NodeInfo> info = nodes.Get(a);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->running_ranks, (std::vector<int>{0, 1}));
}

TEST(NodeManagerTest, NodeIsLostAfterMissedIntervalsAndOnlyThen) {
  FakeClock clock;
  NodeManager nodes(&clock, seconds(2), 3);  // lost after 6 s of silence
  std::string a = nodes.Register(Host("a"), "x:1");
  std::string b = nodes.Register(Host("b"), "x:2");

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
  std::string a = nodes.Register(Host("a"), "x:1");
  clock.Advance(seconds(2));
  ASSERT_EQ(nodes.CheckLiveness().size(), 1u);
  std::string again = nodes.Register(Host("a"), "x:1");
  EXPECT_NE(again, a);
  EXPECT_TRUE(nodes.Heartbeat(again, {}));
}

}  // namespace
}  // namespace dstrain::coordinator
