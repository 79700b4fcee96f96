#include "common/config/suggest.h"

#include <gtest/gtest.h>

#include "common/config/job_schema.h"

namespace dstrain::config {
namespace {

TEST(EditDistanceTest, CountsEditsAndAdjacentSwaps) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("abc", ""), 3);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("steps", "steps"), 0);
  EXPECT_EQ(EditDistance("stpes", "steps"), 1);  // one swap
  EXPECT_EQ(EditDistance("stepz", "steps"), 1);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("lerning_rate", "learning_rate"), 1);
}

TEST(ClosestMatchTest, PicksNearestAndRespectsTheLimit) {
  const std::vector<Candidate> pool = {
      {"steps", "steps", 0}, {"seed", "seed", 0}, {"micro_batch", "mb", 0}};
  EXPECT_EQ(ClosestMatch("stpes", pool), "steps");
  EXPECT_EQ(ClosestMatch("Micro-Batch", pool), "mb");
  EXPECT_EQ(ClosestMatch("colour", pool), std::nullopt);
  EXPECT_EQ(ClosestMatch("x", {{"lr", "lr", 0}}), std::nullopt);
}

TEST(ClosestMatchTest, TierBreaksTies) {
  const std::vector<Candidate> pool = {{"abcd", "far", 2}, {"abce", "near", 0}};
  EXPECT_EQ(ClosestMatch("abcf", pool), "near");
}

TEST(SuggestKeyTest, KnowsNamesFromOtherTools) {
  using schema::SuggestKey;
  EXPECT_EQ(SuggestKey("train.optimizer", "lerning_rate"), "lr");
  EXPECT_EQ(SuggestKey("train.optimizer", "learning_rate"), "lr");
  EXPECT_EQ(SuggestKey("", "learning_rate"), "train.optimizer.lr");
  EXPECT_EQ(SuggestKey("train", "train_micro_batch_size_per_gpu"),
            "micro_batch");
  EXPECT_EQ(SuggestKey("train", "gradient_accumulation_steps"), "grad_accum");
  EXPECT_EQ(SuggestKey("train", "max_steps"), "steps");
  EXPECT_EQ(SuggestKey("train", "iters"), "steps");
  EXPECT_EQ(SuggestKey("model", "n_layer"), "layers");
  EXPECT_EQ(SuggestKey("model", "num_layers"), "layers");
  EXPECT_EQ(SuggestKey("model", "n_embd"), "d_model");
  EXPECT_EQ(SuggestKey("model", "hidden_size"), "d_model");
  EXPECT_EQ(SuggestKey("model", "num_attention_heads"), "heads");
  EXPECT_EQ(SuggestKey("model", "block_size"), "seq_len");
  EXPECT_EQ(SuggestKey("model", "max_seq_len"), "seq_len");
  EXPECT_EQ(SuggestKey("train.schedule", "warmup_iters"), "warmup_steps");
  EXPECT_EQ(SuggestKey("train", "max_grad_norm"), "clip_grad_norm");
  EXPECT_EQ(SuggestKey("", "nproc_per_node"), "procs_per_node");
  EXPECT_EQ(SuggestKey("", "steps"), "train.steps");
  EXPECT_EQ(SuggestKey("train", "stepz"), "steps");
  EXPECT_EQ(SuggestKey("", "xyzzy"), "");
}

TEST(SuggestKeyTest, EveryAliasPointsAtAKnownKey) {
  for (const auto& [alias, target] : schema::KeyAliases()) {
    EXPECT_TRUE(schema::FindField(target) != nullptr ||
                schema::IsSection(target))
        << alias << " -> " << target;
  }
}

}  // namespace
}  // namespace dstrain::config
