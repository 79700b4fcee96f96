#include "worker/checkpoint/reshard.h"

#include <gtest/gtest.h>

#include <vector>

namespace dstrain::checkpoint {
namespace {

TEST(ReshardTest, SameWorldReadsOwnSlice) {
  // numel 10 on 4 ranks: padded 12, shard 3.
  EXPECT_EQ(PiecesFor(IndexRange{3, 6}, 10, 3, 4),
            (std::vector<Piece>{{1, 0, 0, 3}}));
  // The last slice holds 1 real element and 2 of padding.
  EXPECT_EQ(PiecesFor(IndexRange{9, 12}, 10, 3, 4),
            (std::vector<Piece>{{3, 0, 0, 1}}));
}

TEST(ReshardTest, FourToTwoSpansTwoSavedSlices) {
  // numel 10: saved on 4 (shard 3), loaded on 2 (padded 10, shard 5).
  EXPECT_EQ(PiecesFor(IndexRange{0, 5}, 10, 3, 4),
            (std::vector<Piece>{{0, 0, 0, 3}, {1, 0, 3, 2}}));
  EXPECT_EQ(PiecesFor(IndexRange{5, 10}, 10, 3, 4),
            (std::vector<Piece>{{1, 2, 0, 1}, {2, 0, 1, 3}, {3, 0, 4, 1}}));
  EXPECT_EQ(SourcesFor(IndexRange{5, 10}, 10, 3, 4),
            (std::vector<int>{1, 2, 3}));
}

TEST(ReshardTest, TwoToThreeAndStageZeroWholeUnit) {
  // numel 7: saved on 2 (padded 8, shard 4); loaded on 3 (padded 9, shard 3).
  EXPECT_EQ(PiecesFor(IndexRange{3, 6}, 7, 4, 2),
            (std::vector<Piece>{{0, 3, 0, 1}, {1, 0, 1, 2}}));
  // Rank 2 of 3 owns [6, 9): one real element.
  EXPECT_EQ(PiecesFor(IndexRange{6, 9}, 7, 4, 2),
            (std::vector<Piece>{{1, 2, 0, 1}}));
  // Stage 0 owns the whole padded unit.
  EXPECT_EQ(PiecesFor(IndexRange{0, 9}, 7, 4, 2),
            (std::vector<Piece>{{0, 0, 0, 4}, {1, 0, 4, 3}}));
}

TEST(ReshardTest, PaddingOnlyRangeHasNoPieces) {
  EXPECT_TRUE(PiecesFor(IndexRange{10, 12}, 10, 3, 4).empty());
  EXPECT_TRUE(SourcesFor(IndexRange{10, 12}, 10, 3, 4).empty());
}

// Property: for random sizes and worlds, the pieces of every loading rank
// tile [0, numel) exactly once and every piece stays inside one saved slice.
TEST(ReshardTest, PiecesTileTheUnitForAnyWorlds) {
  for (std::int64_t numel : {1, 5, 12, 97, 1000}) {
    for (int w : {1, 2, 3, 4, 7}) {
      for (int w2 : {1, 2, 3, 4, 8}) {
        const std::int64_t s = zero::PaddedNumel(numel, w) / w;
        const std::int64_t s2 = zero::PaddedNumel(numel, w2) / w2;
        std::vector<int> seen(numel, 0);
        for (int r = 0; r < w2; ++r) {
          const IndexRange want{r * s2, (r + 1) * s2};
          for (const Piece& p : PiecesFor(want, numel, s, w)) {
            ASSERT_GE(p.src_offset, 0);
            ASSERT_LE(p.src_offset + p.count, s);
            for (std::int64_t i = 0; i < p.count; ++i) {
              const std::int64_t unit_at = p.src_rank * s + p.src_offset + i;
              ASSERT_EQ(unit_at, want.begin + p.dst_offset + i);
              ++seen[unit_at];
            }
          }
        }
        for (std::int64_t i = 0; i < numel; ++i) {
          ASSERT_EQ(seen[i], 1) << numel << " " << w << "->" << w2 << " @" << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace dstrain::checkpoint
