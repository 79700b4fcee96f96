// FindStragglers: slow ranks by their own work per step against the
// job's median, named by host or, when they share a leaf across hosts, by
// the leaf.
#include "coordinator/straggler_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dstrain::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StragglerCheckTest, ARankAboveTheFactorIsNamedWithItsHostAndLeaf) {
  const Stragglers s = FindStragglers({{0, "node-1", "leaf0", 0.050},
                                       {1, "node-1", "leaf0", 0.052},
                                       {2, "node-2", "leaf1", 0.120},
                                       {3, "node-2", "leaf1", 0.054}},
                                      1.5);
  EXPECT_THAT(s.ranks, ElementsAre(2));
  EXPECT_EQ(s.summary,
            "rank 2 on node-2 (leaf1): 0.120 s of work per step, 2.3x the "
            "median 0.053 s");
}

TEST(StragglerCheckTest, SlowRanksOnTwoHostsOfOneLeafNameTheLeaf) {
  const Stragglers s = FindStragglers({{0, "node-1", "leaf0", 0.050},
                                       {1, "node-1", "leaf0", 0.120},
                                       {2, "node-2", "leaf0", 0.050},
                                       {3, "node-2", "leaf0", 0.131},
                                       {4, "node-3", "leaf1", 0.049},
                                       {5, "node-3", "leaf1", 0.054}},
                                      1.5);
  EXPECT_THAT(s.ranks, ElementsAre(1, 3));
  // Median (0.050 + 0.054) / 2 = 0.052.
  EXPECT_EQ(s.summary,
            "leaf leaf0 (ranks 1 on node-1, 3 on node-2): 0.120-0.131 s of "
            "work per step, 2.3-2.5x the median 0.052 s");
}

TEST(StragglerCheckTest, NoiseAndEvenWorkAreNoStragglers) {
  // Twice the median but under a millisecond: a tiny model's jitter.
  EXPECT_THAT(
      FindStragglers({{0, "a", "", 0.0004}, {1, "a", "", 0.0009}}, 1.5).ranks,
      IsEmpty());
  EXPECT_THAT(
      FindStragglers({{0, "a", "", 0.05}, {1, "b", "", 0.06}}, 1.5).ranks,
      IsEmpty());
  EXPECT_THAT(FindStragglers({{0, "a", "", 0.05}}, 1.5).ranks, IsEmpty());
  EXPECT_THAT(FindStragglers({{0, "a", "", 0.05}, {1, "b", "", 0.5}}, 0).ranks,
              IsEmpty());  // off
  EXPECT_DOUBLE_EQ(Median({3, 1, 2, 10}), 2.5);
}

}  // namespace
}  // namespace dstrain::coordinator
