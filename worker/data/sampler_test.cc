#include "worker/data/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/testing/status_matchers.h"

namespace dstrain::data {
namespace {

using ::dstrain::testing::IsOk;
using ::testing::Not;

constexpr std::int64_t kBytes = 100003;
constexpr std::int64_t kWindow = 65;

WindowSampler Make(std::uint64_t seed) {
  StatusOr<WindowSampler> s = WindowSampler::Create(kBytes, kWindow, seed);
  EXPECT_THAT(s, IsOk()) << s.status().ToString();
  return std::move(s).value();
}

// All global indices step `step` reads, in the order ranks and micro-steps
// hold them, for a world of `world` ranks with the given split.
std::vector<std::int64_t> GlobalBatchOffsets(WindowSampler& s, int world,
                                             int micro_batch, int accum,
                                             std::int64_t step) {
  std::vector<std::int64_t> out;
  for (int r = 0; r < world; ++r) {
    BatchLayout l{world, r, micro_batch, accum};
    for (int m = 0; m < accum; ++m) {
      for (int i = 0; i < micro_batch; ++i) {
        out.push_back(s.Offset(l.GlobalIndex(step, m, i)));
      }
    }
  }
  return out;
}

TEST(UniformBelowTest, StaysInRangeAndIsDeterministic) {
  std::mt19937_64 a(7), b(7);
  for (std::uint64_t bound : {1ULL, 2ULL, 3ULL, 1000ULL, (1ULL << 63) + 5}) {
    for (int i = 0; i < 100; ++i) {
      const std::uint64_t x = UniformBelow(bound, a);
      EXPECT_LT(x, bound);
      EXPECT_EQ(x, UniformBelow(bound, b));
    }
  }
}

TEST(PermutationTest, IsAPermutationAndPinnedAcrossPlatforms) {
  const std::vector<std::uint32_t> p = Permutation(1000, 42);
  std::vector<std::uint32_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (std::uint32_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_NE(p, sorted);  // shuffled
  EXPECT_EQ(p, Permutation(1000, 42));
  EXPECT_NE(p, Permutation(1000, 43));
  // mt19937_64 and this Fisher-Yates are fully specified: these values are
  // the same with every standard library, so runs are reproducible anywhere.
  const std::vector<std::uint32_t> small = Permutation(8, 1);
  const std::vector<std::uint32_t> again = Permutation(8, 1);
  EXPECT_EQ(small, again);
  std::mt19937_64 rng(1);
  std::vector<std::uint32_t> manual{0, 1, 2, 3, 4, 5, 6, 7};
  for (std::uint32_t i = 8; i > 1; --i) {
    std::swap(manual[i - 1], manual[UniformBelow(i, rng)]);
  }
  EXPECT_EQ(small, manual);
}

TEST(WindowSamplerTest, RejectsDataShorterThanAWindow) {
  StatusOr<WindowSampler> s = WindowSampler::Create(64, 65, 1);
  ASSERT_THAT(s, Not(IsOk()));
  EXPECT_NE(s.status().message().find("fewer than one window"),
            std::string::npos);
  EXPECT_THAT(WindowSampler::Create(65, 65, 1), IsOk());
}

TEST(WindowSamplerTest, ReproducibleForTheSameSeed) {
  WindowSampler a = Make(1234), b = Make(1234), c = Make(99);
  int differ = 0;
  for (std::int64_t g = 0; g < 5000; ++g) {
    ASSERT_EQ(a.Offset(g), b.Offset(g)) << g;
    differ += a.Offset(g) != c.Offset(g);
  }
  EXPECT_GT(differ, 4000);
}

TEST(WindowSamplerTest, EpochIsAPermutationOfDisjointWindowsInBounds) {
  WindowSampler s = Make(5);
  const std::int64_t n = s.windows_per_epoch();
  EXPECT_EQ(n, kBytes / kWindow - 1);
  for (std::int64_t epoch = 0; epoch < 3; ++epoch) {
    std::set<std::int64_t> seen;
    const std::int64_t shift = s.EpochShift(epoch);
    ASSERT_GE(shift, 0);
    ASSERT_LT(shift, kWindow);
    for (std::int64_t pos = 0; pos < n; ++pos) {
      const std::int64_t off = s.Offset(epoch * n + pos);
      ASSERT_GE(off, 0);
      ASSERT_LE(off + kWindow, kBytes);
      ASSERT_EQ((off - shift) % kWindow, 0) << "windows overlap";
      ASSERT_TRUE(seen.insert(off).second) << "duplicate in epoch " << epoch;
    }
    EXPECT_EQ(static_cast<std::int64_t>(seen.size()), n);
  }
}

TEST(WindowSamplerTest, ShiftAndOrderChangeBetweenEpochs) {
  WindowSampler s = Make(5);
  const std::int64_t n = s.windows_per_epoch();
  std::set<std::int64_t> shifts;
  for (std::int64_t e = 0; e < 20; ++e) shifts.insert(s.EpochShift(e));
  EXPECT_GT(shifts.size(), 10u);
  int same = 0;
  for (std::int64_t pos = 0; pos < 100; ++pos) {
    same += (s.Offset(pos) - s.EpochShift(0)) ==
            (s.Offset(n + pos) - s.EpochShift(1));
  }
  EXPECT_LT(same, 10);
}

TEST(WindowSamplerTest, RankSharesAreDisjointAndFormTheGlobalBatch) {
  const int world = 4, micro_batch = 3, accum = 2;
  WindowSampler s = Make(11);
  for (std::int64_t step = 0; step < 50; ++step) {
    std::set<std::int64_t> all;
    std::vector<std::set<std::int64_t>> per_rank(world);
    for (int r = 0; r < world; ++r) {
      BatchLayout l{world, r, micro_batch, accum};
      for (int m = 0; m < accum; ++m) {
        for (int i = 0; i < micro_batch; ++i) {
          const std::int64_t g = l.GlobalIndex(step, m, i);
          per_rank[r].insert(g);
          ASSERT_TRUE(all.insert(g).second) << "two ranks share sample " << g;
        }
      }
    }
    // The union is exactly the step's global batch [step*G, (step+1)*G).
    const std::int64_t gb =
        BatchLayout{world, 0, micro_batch, accum}.global_batch();
    ASSERT_EQ(static_cast<std::int64_t>(all.size()), gb);
    EXPECT_EQ(*all.begin(), step * gb);
    EXPECT_EQ(*all.rbegin(), (step + 1) * gb - 1);
    // Each rank's share is contiguous.
    for (int r = 0; r < world; ++r) {
      EXPECT_EQ(*per_rank[r].rbegin() - *per_rank[r].begin() + 1,
                static_cast<std::int64_t>(per_rank[r].size()));
    }
  }
}

TEST(WindowSamplerTest, GlobalBatchIndependentOfWorldSize) {
  // 16 sequences per step, split as 1x16, 2x8, 4x4 and 2 ranks x 2 accum x 4.
  for (std::int64_t step : {0, 1, 7, 1600}) {  // 1600 crosses an epoch
    WindowSampler s1 = Make(3), s2 = Make(3), s4 = Make(3), sa = Make(3);
    const auto w1 = GlobalBatchOffsets(s1, 1, 16, 1, step);
    EXPECT_EQ(w1, GlobalBatchOffsets(s2, 2, 8, 1, step)) << step;
    EXPECT_EQ(w1, GlobalBatchOffsets(s4, 4, 4, 1, step)) << step;
    EXPECT_EQ(w1, GlobalBatchOffsets(sa, 2, 4, 2, step)) << step;
  }
}

// Block shuffling: each epoch still reads every window once, and each run
// of a group's size draws from that group's few blocks only — so a rank
// reads a handful of blocks, not the whole data, per group.
TEST(WindowSamplerTest, BlockShuffledEpochsArePermutationsReadInGroups) {
  SamplerOptions o;
  o.window = kWindow;
  o.seed = 9;
  o.block_tokens = 10 * kWindow;  // 10 windows per block
  o.group_blocks = 3;
  // 1500 windows (one fewer than fit): 150 whole blocks, 50 groups of 30.
  StatusOr<WindowSampler> made = WindowSampler::Create(kWindow * 1501, o);
  ASSERT_THAT(made, IsOk());
  WindowSampler s = std::move(made).value();
  const std::int64_t n = s.windows_per_epoch();
  ASSERT_EQ(n, 1500);
  ASSERT_EQ(s.windows_per_block(), 10);
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    std::set<std::int64_t> seen;
    for (std::int64_t group = 0; group * 30 < n; ++group) {
      std::set<std::int64_t> blocks;
      for (std::int64_t pos = group * 30; pos < std::min(n, group * 30 + 30);
           ++pos) {
        const std::int64_t w = s.WindowOf(epoch * n + pos);
        ASSERT_TRUE(seen.insert(w).second) << "window " << w << " twice";
        blocks.insert(w / 10);
      }
      EXPECT_LE(blocks.size(), 3u) << "group " << group;
    }
    EXPECT_EQ(static_cast<std::int64_t>(seen.size()), n);
  }
  // Far from sequential: the blocks come in shuffled order.
  int in_order = 0;
  for (std::int64_t pos = 0; pos + 1 < n; ++pos) {
    in_order += s.WindowOf(pos + 1) == s.WindowOf(pos) + 1;
  }
  EXPECT_LT(in_order, n / 10);
}

// Fixed-length rows (2-D HDF5): one window per row, at its start.
TEST(WindowSamplerTest, RowsAreSamplesWithoutShift) {
  SamplerOptions o;
  o.window = 65;
  o.seed = 4;
  o.row_length = 100;
  StatusOr<WindowSampler> made = WindowSampler::Create(100 * 57, o);
  ASSERT_THAT(made, IsOk());
  WindowSampler s = std::move(made).value();
  EXPECT_EQ(s.windows_per_epoch(), 57);
  std::set<std::int64_t> seen;
  for (std::int64_t g = 0; g < 57; ++g) {
    const std::int64_t off = s.Offset(g);
    ASSERT_EQ(off % 100, 0);
    seen.insert(off);
  }
  EXPECT_EQ(seen.size(), 57u);
  o.row_length = 64;  // shorter than a window
  EXPECT_THAT(WindowSampler::Create(64 * 10, o), Not(IsOk()));
}

}  // namespace
}  // namespace dstrain::data
