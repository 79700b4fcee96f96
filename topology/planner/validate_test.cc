// Validators reject what they promise to reject, naming the offender.
#include "topology/planner/validate.h"

#include <gtest/gtest.h>

#include "common/testing/status_matchers.h"
#include "topology/model/generators.h"
#include "topology/plan/ring.h"
#include "topology/planner/planner.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

HostInfo Devices(int n) {
  HostInfo h;
  h.devices = n;
  return h;
}

TEST(ValidateRankOrder, EveryRankExactlyOnce) {
  const std::vector<int32_t> good = {2, 0, 1, 3};
  EXPECT_THAT(ValidateRankOrder(good), IsOk());
  const std::vector<int32_t> twice = {0, 1, 1};
  EXPECT_EQ(ValidateRankOrder(twice).message(),
            "rank order: rank 1 appears twice (again at position 2)");
  const std::vector<int32_t> outside = {0, 3, 1};
  EXPECT_EQ(ValidateRankOrder(outside).message(),
            "rank order: position 1 holds rank 3, outside 0..2");
}

TEST(ValidateSubCommunicator, MustPartitionTheRanks) {
  SubCommunicator c{"rows", {0, 0, 1, 1}, {0, 1, 0, 1}};
  EXPECT_THAT(ValidateSubCommunicator(c, 4), IsOk());
  EXPECT_EQ(ValidateSubCommunicator(c, 5).message(),
            "sub-communicator `rows` has 4 colours and 4 keys for 5 ranks");
  c.color[2] = -1;
  EXPECT_EQ(ValidateSubCommunicator(c, 4).message(),
            "sub-communicator `rows`: rank 2 joins no group (colour -1)");
  c.color[2] = 0;
  EXPECT_EQ(
      ValidateSubCommunicator(c, 4).message(),
      "sub-communicator `rows`: key 0 is used twice in colour 0 (rank 2)");
}

TEST(ValidateSchedule, RejectsMalformedTransfers) {
  Schedule s = RingAllReduce(4, 1);
  EXPECT_THAT(ValidateSchedule(s), IsOk());
  s.phases[0].transfers[1].dst = 1;
  EXPECT_EQ(ValidateSchedule(s).message(),
            "schedule `ring` phase `ring reduce-scatter + all-gather`: rank 1 "
            "sends to itself");
  s = RingAllReduce(4, 1);
  s.phases[0].transfers[0].dst = 9;
  EXPECT_EQ(
      ValidateSchedule(s).message(),
      "schedule `ring` phase `ring reduce-scatter + all-gather`: transfer "
      "0 -> 9 leaves ranks 0..3");
  s = RingAllReduce(4, 1);
  s.phases[0].steps = 0;
  EXPECT_THAT(ValidateSchedule(s), Not(IsOk()));
}

TEST(ValidateScheduleRoutes, NeedsAPathBetweenHosts) {
  // Two islands: a and b share a switch, c hangs off another.
  Cluster cl;
  cl.set_name("islands");
  const VertexId s1 = cl.AddSwitch("s1", {}).value();
  const VertexId s2 = cl.AddSwitch("s2", {}).value();
  const VertexId a = cl.AddHost("a", Devices(1)).value();
  const VertexId b = cl.AddHost("b", Devices(1)).value();
  const VertexId c = cl.AddHost("c", Devices(1)).value();
  ASSERT_THAT(cl.AddLink(a, s1), IsOk());
  ASSERT_THAT(cl.AddLink(b, s1), IsOk());
  ASSERT_THAT(cl.AddLink(c, s2), IsOk());
  const Router router = Router::Create(cl).value();
  const std::vector<VertexId> ab = {a, b};
  EXPECT_THAT(ValidateScheduleRoutes(cl, router, RankMapFor(ab, 1),
                                     RingAllReduce(2, 1)),
              IsOk());
  const std::vector<VertexId> abc = {a, b, c};
  const Status st = ValidateScheduleRoutes(cl, router, RankMapFor(abc, 1),
                                           RingAllReduce(3, 1));
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_NE(st.message().find("`b`"), std::string::npos) << st.message();
}

TEST(ValidatePlan, CatchesTamperedPlans) {
  FatTreeOptions o;
  o.hosts = 8;
  o.k = 4;
  o.devices_per_host = 2;
  const Cluster c = MakeFatTree(o).value();
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  const Plan plan = BuildPlan(c, hosts).value();
  EXPECT_THAT(ValidatePlan(c, plan), IsOk());

  Plan swapped = plan;
  std::swap(swapped.ranks[0].rank, swapped.ranks[1].rank);
  EXPECT_THAT(ValidatePlan(c, swapped), Not(IsOk()));

  Plan gap = plan;
  gap.algorithms = {{0, 100, Algorithm::kRing}, {200, -1, Algorithm::kRing}};
  EXPECT_EQ(ValidatePlan(c, gap).message(),
            "plan: algorithm ranges must run from 0 upward without gaps and "
            "end open (range 1)");

  Plan too_many = plan;
  too_many.ranks_per_node = 4;
  too_many.ranks = LayOutRanks(
                       [&] {
                         std::vector<std::string> names;
                         for (VertexId h : plan.placement.hosts)
                           names.push_back(c.vertex(h).name);
                         return names;
                       }(),
                       4)
                       .value();
  EXPECT_EQ(ValidatePlan(c, too_many).message(),
            "plan: host `" + c.vertex(plan.placement.hosts[0]).name +
                "` has 2 devices for 4 ranks");

  Plan dup = plan;
  dup.communicators.push_back(
      {"x", std::vector<int32_t>(16, 0), std::vector<int32_t>(16, 0)});
  EXPECT_EQ(ValidatePlan(c, dup).message(),
            "sub-communicator `x`: key 0 is used twice in colour 0 (rank 1)");
}

}  // namespace
}  // namespace dstrain::topology
