#include "worker/zero/shard_layout.h"

#include <gtest/gtest.h>

#include "common/sizing/model_state_formula.h"
#include "worker/zero/unit_schedule.h"

namespace dstrain::zero {
namespace {

using ::dstrain::sizing::ExpectedModelStateBytes;
using ::dstrain::sizing::ModelStateBytes;

// A transformer-block-like unit: weight matrices interleaved with vectors.
std::vector<ParamSpec> BlockParams() {
  return {{"ln1.weight", {8}}, {"ln1.bias", {8}},       {"qkv.weight", {24, 8}},
          {"qkv.bias", {24}},  {"proj.weight", {8, 8}}, {"proj.bias", {8}}};
}

TEST(ShardLayoutTest, PaddedNumelRoundsUpToTheWorld) {
  EXPECT_EQ(PaddedNumel(0, 4), 0);
  EXPECT_EQ(PaddedNumel(1, 4), 4);
  EXPECT_EQ(PaddedNumel(8, 4), 8);
  EXPECT_EQ(PaddedNumel(9, 4), 12);
  EXPECT_EQ(PaddedNumel(7, 1), 7);
  EXPECT_THROW(PaddedNumel(7, 0), std::invalid_argument);
}

TEST(ShardLayoutTest, DecayedWeightsComeFirstInGivenOrder) {
  const UnitLayout u = LayoutUnit("block", BlockParams(), 3);
  ASSERT_EQ(u.params.size(), 6u);
  EXPECT_EQ(u.params[0].spec.name, "qkv.weight");
  EXPECT_EQ(u.params[0].offset, 0);
  EXPECT_EQ(u.params[1].spec.name, "proj.weight");
  EXPECT_EQ(u.params[1].offset, 192);
  EXPECT_EQ(u.params[2].spec.name, "ln1.weight");
  EXPECT_EQ(u.params[2].offset, 256);
  EXPECT_EQ(u.params[5].spec.name, "proj.bias");
  EXPECT_EQ(u.decay_numel, 256);
  EXPECT_EQ(u.numel, 256 + 8 + 8 + 24 + 8);  // 304
  EXPECT_EQ(u.padded_numel, 306);
  EXPECT_EQ(u.shard_numel, 102);
  // Lookup by the index the parameter had in the model's list.
  EXPECT_EQ(u.slot(3).spec.name, "qkv.bias");
  EXPECT_EQ(u.slot(3).offset, 256 + 16);
  EXPECT_THROW(u.slot(6), std::out_of_range);
}

TEST(ShardLayoutTest, UnpaddedOffsetsDoNotDependOnTheWorld) {
  const UnitLayout a = LayoutUnit("b", BlockParams(), 1);
  const UnitLayout b = LayoutUnit("b", BlockParams(), 7);
  ASSERT_EQ(a.params.size(), b.params.size());
  for (std::size_t i = 0; i < a.params.size(); ++i) {
    EXPECT_EQ(a.params[i].offset, b.params[i].offset);
  }
  EXPECT_EQ(a.padded_numel, 304);
  EXPECT_EQ(b.padded_numel, 308);
}

TEST(ShardLayoutTest, ShardsTileThePaddedBuffer) {
  for (int world : {1, 2, 3, 4, 5, 8}) {
    const UnitLayout u = LayoutUnit("b", BlockParams(), world);
    std::int64_t next = 0;
    for (int r = 0; r < world; ++r) {
      const IndexRange s = ShardRange(u, r);
      EXPECT_EQ(s.begin, next) << world << " ranks, rank " << r;
      EXPECT_EQ(s.size(), u.shard_numel);
      next = s.end;
    }
    EXPECT_EQ(next, u.padded_numel);
    EXPECT_LT(u.padded_numel - u.numel, world);
  }
  const UnitLayout u = LayoutUnit("b", BlockParams(), 2);
  EXPECT_THROW(ShardRange(u, 2), std::out_of_range);
  EXPECT_THROW(ShardRange(u, -1), std::out_of_range);
}

TEST(ShardLayoutTest, DecayPartClipsToTheDecayedPrefix) {
  const UnitLayout u = LayoutUnit("b", BlockParams(), 3);  // decay [0,256)
  EXPECT_EQ(DecayPart(u, ShardRange(u, 0)), (IndexRange{0, 102}));
  EXPECT_EQ(DecayPart(u, ShardRange(u, 2)), (IndexRange{204, 256}));
  EXPECT_TRUE(DecayPart(u, IndexRange{256, 306}).empty());
}

TEST(ShardLayoutTest, ArenaConcatenatesOwnedSlicesAndMergesDecay) {
  // Unit 0: 2-D weight of 6 and a bias of 2 (decay [0,6)); unit 1: only a
  // 2-D weight of 4.
  const std::vector<UnitLayout> units = {
      LayoutUnit("a", {{"w", {2, 3}}, {"b", {2}}}, 2),
      LayoutUnit("b", {{"w", {2, 2}}}, 2)};
  // Rank 0 owns a[0,4) (all decayed) and b[0,2) (decayed): one merged range.
  const ArenaLayout r0 = LayoutArena(units, 0, /*sharded=*/true);
  EXPECT_EQ(r0.numel, 6);
  EXPECT_EQ(r0.offset, (std::vector<std::int64_t>{0, 4}));
  ASSERT_EQ(r0.decay.size(), 1u);
  EXPECT_EQ(r0.decay[0], (IndexRange{0, 6}));
  // Rank 1 owns a[4,8) (4,5 decayed; 6,7 the bias) and b[2,4) (decayed).
  const ArenaLayout r1 = LayoutArena(units, 1, /*sharded=*/true);
  EXPECT_EQ(r1.owned[0], (IndexRange{4, 8}));
  ASSERT_EQ(r1.decay.size(), 2u);
  EXPECT_EQ(r1.decay[0], (IndexRange{0, 2}));
  EXPECT_EQ(r1.decay[1], (IndexRange{4, 6}));
  // Unsharded: every rank owns everything.
  const ArenaLayout whole = LayoutArena(units, 1, /*sharded=*/false);
  EXPECT_EQ(whole.numel, 12);
  EXPECT_EQ(whole.owned[1], (IndexRange{0, 4}));
  ASSERT_EQ(whole.decay.size(), 2u);
  EXPECT_EQ(whole.decay[0], (IndexRange{0, 6}));
  EXPECT_EQ(whole.decay[1], (IndexRange{8, 12}));
}

TEST(ModelStateFormulaTest, StageThreeIsSixteenPsiOverW) {
  const std::int64_t psi = 1 << 20;
  for (int w : {1, 2, 4}) {
    EXPECT_EQ(ExpectedModelStateBytes(3, psi, w, 4).total(), 16 * psi / w);
    EXPECT_EQ(ExpectedModelStateBytes(3, psi, w, 2).total(), 16 * psi / w);
  }
  EXPECT_EQ(ExpectedModelStateBytes(0, psi, 4, 4).total(), 16 * psi);
  EXPECT_EQ(ExpectedModelStateBytes(1, psi, 4, 4).total(),
            8 * psi + 16 * psi / 4);
  EXPECT_EQ(ExpectedModelStateBytes(2, psi, 4, 4).total(),
            4 * psi + 16 * psi / 4);
  EXPECT_THROW(ExpectedModelStateBytes(4, psi, 4, 4), std::invalid_argument);
}

// The GPT's schedule: root (embeddings), blocks 1..3, root (head).
UnitSchedule GptSchedule() { return UnitSchedule({0, 1, 2, 3, 0}, 4); }

TEST(UnitScheduleTest, BackwardMirrorsForward) {
  const UnitSchedule s = GptSchedule();
  EXPECT_EQ(s.size(), 10);
  const std::vector<int> want = {0, 1, 2, 3, 0, 0, 3, 2, 1, 0};
  for (int p = 0; p < s.size(); ++p) EXPECT_EQ(s.unit_at(p), want[p]) << p;
  EXPECT_FALSE(s.is_backward(4));
  EXPECT_TRUE(s.is_backward(5));
  EXPECT_THROW(s.unit_at(10), std::out_of_range);
}

TEST(UnitScheduleTest, BadOrdersAreRefused) {
  EXPECT_THROW(UnitSchedule({}, 0), std::invalid_argument);
  EXPECT_THROW(UnitSchedule({0, 2}, 2), std::invalid_argument);
  EXPECT_THROW(UnitSchedule({0, 0}, 2), std::invalid_argument);  // 1 unused
}

TEST(UnitScheduleTest, PrefetchLooksAheadAcrossTheForwardBackwardTurn) {
  const UnitSchedule s = GptSchedule();
  EXPECT_EQ(s.PrefetchAfter(0, 1), (std::vector<int>{1}));
  EXPECT_EQ(s.PrefetchAfter(0, 2), (std::vector<int>{1, 2}));
  EXPECT_EQ(s.PrefetchAfter(0, 0), (std::vector<int>{}));
  // From the head (position 4): the root again (skipped), then block 3.
  EXPECT_EQ(s.PrefetchAfter(4, 1), (std::vector<int>{}));
  EXPECT_EQ(s.PrefetchAfter(4, 2), (std::vector<int>{3}));
  EXPECT_EQ(s.PrefetchAfter(5, 1), (std::vector<int>{3}));
  EXPECT_EQ(s.PrefetchAfter(8, 5), (std::vector<int>{0}));  // only root left
  EXPECT_EQ(s.PrefetchAfter(9, 3), (std::vector<int>{}));
}

TEST(UnitScheduleTest, RootStaysGatheredBlocksAreReleased) {
  const UnitSchedule s = GptSchedule();
  // Root: kept between embeddings and head, across the turn, and through
  // backward until its last use.
  EXPECT_TRUE(s.KeepGatheredAfter(0, true));
  EXPECT_TRUE(s.KeepGatheredAfter(4, true));
  EXPECT_TRUE(s.KeepGatheredAfter(5, true));
  EXPECT_FALSE(s.KeepGatheredAfter(9, true));
  // Blocks: released after forward when asked, always after backward.
  for (int p : {1, 2, 3}) {
    EXPECT_FALSE(s.KeepGatheredAfter(p, true)) << p;
    EXPECT_TRUE(s.KeepGatheredAfter(p, false)) << p;
  }
  for (int p : {6, 7, 8}) {
    EXPECT_FALSE(s.KeepGatheredAfter(p, true)) << p;
    EXPECT_FALSE(s.KeepGatheredAfter(p, false)) << p;
  }
}

TEST(UnitScheduleTest, GradientBuffersSpanFirstToLastBackwardUse) {
  const UnitSchedule s = GptSchedule();
  EXPECT_TRUE(s.IsFirstBackwardUse(5));  // root, head's backward
  EXPECT_FALSE(s.IsLastBackwardUse(5));
  EXPECT_FALSE(s.IsFirstBackwardUse(9));  // root, embeddings' backward
  EXPECT_TRUE(s.IsLastBackwardUse(9));
  EXPECT_TRUE(s.IsFirstBackwardUse(6));
  EXPECT_TRUE(s.IsLastBackwardUse(6));
  EXPECT_FALSE(s.IsFirstBackwardUse(1));  // a forward position
  EXPECT_FALSE(s.IsLastBackwardUse(1));
}

}  // namespace
}  // namespace dstrain::zero
