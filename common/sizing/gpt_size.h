#pragma once
// The size of the GPT the engine builds (worker/models/gpt.h) from the job's
// `model:` section, without building it: its parameters per ZeRO unit and
// the arithmetic of a training step. Pure functions; thread-safe.
//
// With C = d_model, F = d_ff (4C when 0), V = vocab, T = seq_len:
//   root unit   V·C (token embedding, also the tied head) + T·C (positions)
//               + 2C (final layer norm)
//   each block  4C² + 2CF (q/k/v, attention projection, MLP) + 8C + F
//               (query and value biases, projection biases, two layer
//               norms, the MLP's first bias; the key has no bias)

#include <cstdint>
#include <vector>

#include "common/config/job_config.h"

namespace dstrain::sizing {

// model.d_ff with its default applied.
std::int64_t FeedForwardWidth(const config::ModelConfig& m);

// Parameters per unit in the engine's order: the root unit, then one per
// block.
std::vector<std::int64_t> GptUnitNumels(const config::ModelConfig& m);

// Σ GptUnitNumels: the parameter count the engine reports.
std::int64_t GptParameterCount(const config::ModelConfig& m);

// Model FLOPs of one token through forward and backward, as MFU counts
// them (PaLM, appendix B): 6 per parameter that multiplies (the blocks'
// matrices and the tied head, V·C) plus 12·layers·T·C for the attention
// scores and their use (causal attention counted whole, as is customary).
// Recomputation is not counted: it is work the hardware does, not the model.
double GptTrainFlopsPerToken(const config::ModelConfig& m);

}  // namespace dstrain::sizing
