#pragma once
// The GPT's training loss run unit by unit through a ZeRO engine: the root
// unit's embeddings, each block, the root unit's head and loss, as the
// segments of GptImpl::UnitForwardOrder(). With every stage, with and
// without recompute, the result equals GptImpl::Loss on the same weights.

#include <ATen/core/Tensor.h>

#include "worker/models/gpt.h"
#include "worker/zero/zero_engine.h"

namespace dstrain::engine {

// idx, targets: [B, T] int64. `engine` must have been made from
// model.Units() and model.UnitForwardOrder().
at::Tensor ShardedGptLoss(models::GptImpl& model, zero::ZeroEngine& engine,
                          const at::Tensor& idx, const at::Tensor& targets);

}  // namespace dstrain::engine
