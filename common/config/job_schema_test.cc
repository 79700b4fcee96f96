// The job schema's "did you mean": names people bring from other tools
// map to our keys, and every alias names a key that exists.

#include "common/config/job_schema.h"

#include <gtest/gtest.h>

namespace dstrain::config {
namespace {

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
