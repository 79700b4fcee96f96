#pragma once
// The GPT (worker/models/gpt.h) as a TrainableModel: its units are the root
// (embeddings and head) and each block; its loss runs the embeddings, each
// block and the head's loss as the segments of GptImpl::UnitForwardOrder().

#include <memory>

#include "common/config/job_config.h"
#include "worker/engine/trainable_model.h"
#include "worker/models/gpt.h"

namespace dstrain::engine {

// The GPT's loss run unit by unit through `zero`, which must have been made
// from model.Units() and model.UnitForwardOrder(); idx, targets: [B, T]
// int64. Equals GptImpl::Loss on the same weights.
at::Tensor ShardedGptLoss(models::GptImpl& model, zero::ZeroEngine& zero,
                          const at::Tensor& idx, const at::Tensor& targets);

std::unique_ptr<TrainableModel> MakeGptModel(const config::ModelConfig& config);

}  // namespace dstrain::engine
