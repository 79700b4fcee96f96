// Ring, recursive halving/doubling, hierarchical and torus schedules: valid,
// each rank sends what the cost formula assumes, and the sub-communicators
// are the groups the algorithms need.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "common/contract/torus_parts.h"
#include "common/testing/status_matchers.h"
#include "topology/model/generators.h"
#include "topology/plan/hierarchical.h"
#include "topology/plan/recursive_halving_doubling.h"
#include "topology/plan/ring.h"
#include "topology/plan/testing/test_fabrics.h"
#include "topology/plan/torus_allreduce.h"
#include "topology/plan/torus_placement.h"
#include "topology/planner/validate.h"

namespace dstrain::topology {
namespace {

using ::dstrain::testing::IsOk;
using ::dstrain::testing::StatusIs;
using ::testing::HasSubstr;

// Bytes (as a fraction of S) each rank sends over the whole collective.
std::vector<double> SentPerRank(const Schedule& s) {
  std::vector<double> sent(s.nranks, 0);
  for (const Phase& p : s.phases)
    for (const Transfer& t : p.transfers)
      sent[t.src] += t.fraction * static_cast<double>(p.steps);
  return sent;
}

// Groups of a sub-communicator: colour -> ranks ordered by key.
std::map<int32_t, std::map<int32_t, int32_t>> Groups(const SubCommunicator& c) {
  std::map<int32_t, std::map<int32_t, int32_t>> g;
  for (size_t r = 0; r < c.color.size(); ++r) g[c.color[r]][c.key[r]] = r;
  return g;
}

TEST(RingSchedule, EveryRankSendsTwiceItsShareMinusOne) {
  for (int32_t n : {1, 2, 3, 8, 1000}) {
    const Schedule s = RingAllReduce(n, 1);
    ASSERT_THAT(ValidateSchedule(s), IsOk());
    if (n == 1) {
      EXPECT_TRUE(s.phases.empty());
      continue;
    }
    ASSERT_EQ(s.phases.size(), 1u);
    EXPECT_EQ(s.phases[0].steps, 2 * (n - 1));
    for (double b : SentPerRank(s)) EXPECT_NEAR(b, 2.0 * (n - 1) / n, 1e-12);
    EXPECT_EQ(RingReduceScatter(n, 1).phases[0].steps, n - 1);
    EXPECT_EQ(RingAllGather(n, 1).phases[0].steps, n - 1);
  }
}

TEST(RecursiveHalvingDoubling, PowersOfTwoSendTheRingsVolume) {
  for (int32_t n : {2, 4, 64, 1024}) {
    const Schedule s = RecursiveHalvingDoublingAllReduce(n, 1);
    ASSERT_THAT(ValidateSchedule(s), IsOk());
    EXPECT_EQ(s.phases.size(), static_cast<size_t>(std::log2(n)));
    for (double b : SentPerRank(s)) EXPECT_NEAR(b, 2.0 * (n - 1) / n, 1e-12);
  }
}

TEST(RecursiveHalvingDoubling, OtherSizesFoldTheExtraRanksIn) {
  for (int32_t n : {3, 5, 6, 7, 100, 1000}) {
    const Schedule s = RecursiveHalvingDoublingAllReduce(n, 1);
    ASSERT_THAT(ValidateSchedule(s), IsOk()) << ValidateSchedule(s).message();
    // Every rank takes part: each sends something and receives something.
    std::vector<bool> sends(n, false), receives(n, false);
    for (const Phase& p : s.phases) {
      // Within a phase no rank sends twice (one partner per step).
      std::set<int32_t> senders;
      for (const Transfer& t : p.transfers) {
        EXPECT_TRUE(senders.insert(t.src).second) << n << " " << p.name;
        sends[t.src] = receives[t.dst] = true;
      }
    }
    for (int32_t r = 0; r < n; ++r) EXPECT_TRUE(sends[r] && receives[r]) << n;
    EXPECT_EQ(s.phases.front().name, "fold extra ranks in");
    EXPECT_EQ(s.phases.back().name, "hand results out");
  }
}

TEST(Hierarchical, CommunicatorsAreNodesAndLocalIndices) {
  const int32_t nodes = 5, g = 4;
  const auto comms = HierarchicalCommunicators(nodes, g);
  ASSERT_EQ(comms.size(), 2u);
  EXPECT_EQ(comms[0].name, "intra_node");
  EXPECT_EQ(comms[1].name, "inter_node");
  for (const auto& c : comms)
    EXPECT_THAT(ValidateSubCommunicator(c, nodes * g), IsOk());
  const auto intra = Groups(comms[0]);
  ASSERT_EQ(intra.size(), static_cast<size_t>(nodes));
  for (const auto& [node, members] : intra) {
    ASSERT_EQ(members.size(), static_cast<size_t>(g));
    for (const auto& [key, rank] : members) EXPECT_EQ(rank, node * g + key);
  }
  const auto inter = Groups(comms[1]);
  ASSERT_EQ(inter.size(), static_cast<size_t>(g));
  for (const auto& [local, members] : inter) {
    ASSERT_EQ(members.size(), static_cast<size_t>(nodes));
    for (const auto& [key, rank] : members) EXPECT_EQ(rank, key * g + local);
  }
  const Schedule s = HierarchicalAllReduce(nodes, g);
  ASSERT_THAT(ValidateSchedule(s), IsOk());
  ASSERT_EQ(s.phases.size(), 2u);
  EXPECT_EQ(s.phases[0].steps, 2 * (g - 1));
  EXPECT_EQ(s.phases[1].steps, 2 * (nodes - 1));
  for (const Transfer& t : s.phases[0].transfers)
    EXPECT_EQ(t.src / g, t.dst / g);
  for (const Transfer& t : s.phases[1].transfers)
    EXPECT_EQ(t.src % g, t.dst % g);
}

TEST(TorusAllReduce, LinesAreTorusLinesOnRandomBoxes) {
  std::mt19937_64 rng(41);
  for (int trial = 0; trial < 150; ++trial) {
    const testing::TestFabric f =
        testing::RandomFabric(rng, testing::FabricFamily::kTorus);
    const Cluster& c = f.cluster;
    const Placement p = PlaceTorusSnake(c, testing::RandomBox(rng, c)).value();
    const TorusLayout layout = TorusLayoutOf(c, p).value();
    const int32_t g = testing::Draw(rng, 1, 3);
    const int32_t n = static_cast<int32_t>(p.hosts.size()) * g;
    const auto comms = TorusCommunicators(layout, g);
    const auto parts = contract::TorusParts(layout.extent);
    for (const auto& comm : comms) {
      ASSERT_THAT(ValidateSubCommunicator(comm, n), IsOk()) << f.spec;
      // torus_p<k>_<dim> or torus_p<k>_local
      const size_t under = comm.name.rfind('_');
      const int k = std::stoi(comm.name.substr(7, under - 7));
      ASSERT_LT(k, static_cast<int>(parts.size())) << comm.name;
      if (comm.name.substr(under + 1) == "local") {
        for (const auto& [color, members] : Groups(comm)) {
          ASSERT_EQ(members.size(), static_cast<size_t>(g));
          for (const auto& [key, rank] : members) EXPECT_EQ(rank / g, color);
        }
        continue;
      }
      const int d = comm.name[under + 1] - 'x';
      const int e = layout.extent[d];
      for (const auto& [color, members] : Groups(comm)) {
        // A line: e_d hosts that differ only in coordinate d, keyed by it
        // (against it for the - direction), all with the same local rank.
        ASSERT_EQ(members.size(), static_cast<size_t>(e)) << f.spec;
        const int32_t first = members.begin()->second;
        for (const auto& [key, rank] : members) {
          EXPECT_EQ(rank % g, first % g);
          const auto& a = layout.coords[rank / g];
          const auto& b = layout.coords[first / g];
          for (size_t o = 0; o < a.size(); ++o)
            if (static_cast<int>(o) != d) {
              EXPECT_EQ(a[o], b[o]);
            }
          EXPECT_EQ(parts[k].direction > 0 ? a[d] : (e - a[d]) % e, key);
        }
      }
    }
    const Schedule s = TorusAllReduce(layout, g);
    ASSERT_THAT(ValidateSchedule(s), IsOk()) << f.spec;
    ASSERT_THAT(ValidateTorusAllReduce(layout, g, s), IsOk()) << f.spec;
    // Every rank sends its share of every part at every level; a transfer
    // moved off a torus line, or a missing one, is caught.
    if (s.phases.empty()) continue;
    Schedule broken = s;
    broken.phases[0].transfers.pop_back();
    EXPECT_THAT(ValidateTorusAllReduce(layout, g, broken),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("sends")));
  }
}

TEST(TorusAllReduce, EveryPartUsesItsOwnDimensionAndDirectionFirst) {
  // A full 4x4x2 torus of single-rank hosts: parts x+, x-, y+, y-, z; at
  // the first level each drives its own link direction, so the five
  // outgoing link directions of a host carry the same load there.
  TorusOptions o;
  o.dims = {4, 4, 2};
  const Cluster c = MakeTorus(o).value();
  std::vector<VertexId> hosts(c.hosts().begin(), c.hosts().end());
  const Placement p = PlaceTorusSnake(c, hosts).value();
  const TorusLayout layout = TorusLayoutOf(c, p).value();
  const Schedule s = TorusAllReduce(layout, 1);
  ASSERT_EQ(s.phases.size(), 1u);
  EXPECT_EQ(s.phases[0].kind, PhaseKind::kPipelined);
  std::map<int32_t, int> destinations;
  for (const Transfer& t : s.phases[0].transfers)
    if (t.src == 0) ++destinations[t.dst];
  EXPECT_EQ(destinations.size(), 5u);  // x+, x-, y+, y-, z
  // A diagonal: not a neighbour.
  int32_t diagonal = -1;
  for (int32_t v = 0; v < static_cast<int32_t>(layout.coords.size()); ++v) {
    if (layout.coords[v][0] != layout.coords[0][0] &&
        layout.coords[v][1] != layout.coords[0][1]) {
      diagonal = v;
      break;
    }
  }
  ASSERT_GE(diagonal, 0);
  Schedule off_line = s;
  for (Transfer& t : off_line.phases[0].transfers) {
    if (t.src == 0) {
      t.dst = diagonal;
      break;
    }
  }
  EXPECT_THAT(ValidateTorusAllReduce(layout, 1, off_line),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("not between box neighbours")));
}

TEST(TorusAllReduce, NeedsABox) {
  TorusOptions o;
  o.dims = {4, 4};
  const Cluster c = MakeTorus(o).value();
  const std::vector<VertexId> hosts = {c.HostAtCoords(std::vector{0, 0}),
                                       c.HostAtCoords(std::vector{2, 2})};
  const Placement p = PlaceTorusSnake(c, hosts).value();
  EXPECT_EQ(TorusLayoutOf(c, p).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace dstrain::topology
