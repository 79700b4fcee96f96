#pragma once
// An estimate of the activation memory of one micro-batch of the GPT
// (worker/models/gpt.h) at its peak, the start of backward, per rank: what
// autograd keeps for backward plus the working set of the backward pass.
// It is an estimate (the allocator's exact peak depends on the order in
// which temporaries die); a test holds it against the engine's measured
// activation peak on the CPU (base::MemoryTracker's kActivation).
//
// With b sequences of T tokens, width C, MLP width F, vocabulary V, e
// bytes per element of the compute dtype (4 fp32, 2 bf16/fp16), per token:
//   each block keeps, in fp32, 4·(9C + 2F) bytes: its input and the first
//     layer norm's output (C each), q/k/v (3C), the attention output and
//     its contiguous copy (2C), the residual sum and the second norm's
//     output (2C), the MLP's hidden layer before and after GELU (2F) —
//     Korthikanti et al.'s 34·C bytes in 16 bits without dropout masks;
//     under autocast (16-bit) the residual stream stays fp32 and each
//     matrix keeps a 16-bit copy of its input: 22C + 4F bytes. Attention
//     scores are not kept (fused attention keeps only a log-sum-exp per
//     head and token);
//   the head keeps the final norm's input and output (8C) and the logits
//     with the cross-entropy's fp32 log-softmax and the logits' gradient,
//     V·(e + 8).
// Without checkpointing the peak is at the start of backward: every
// block's and the head's. With it (recompute.enabled) a block keeps only
// its fp32 input (4C) until its backward, which recomputes that block:
// the peak is the inputs plus the larger of the head and one block with
// its gradients in flight (8C).

#include <cstdint>

#include "common/config/job_config.h"

namespace dstrain::sizing {

struct ActivationEstimate {
  std::int64_t without_recompute = 0;
  std::int64_t with_recompute = 0;
};

// `compute_bytes` is e above. Pure; thread-safe.
ActivationEstimate EstimateGptActivations(const config::ModelConfig& m,
                                          int micro_batch, int compute_bytes);

}  // namespace dstrain::sizing
