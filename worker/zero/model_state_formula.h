#pragma once
// What the model state (parameters, gradients, optimizer state) costs one
// rank at rest, by ZeRO stage, as the engine lays it out (pure: no torch).
// Ψ parameters, W ranks, `param_bytes` bytes per element of the compute
// dtype (4 for fp32, 2 for bf16/fp16); master weights, gradients handed to
// the optimizer and the two AdamW moments are fp32:
//
//   stage  parameters            gradients           optimizer
//   0      pΨ (+4Ψ if p≠4)       pΨ (+4Ψ if p≠4)      8Ψ
//   1      pΨ + 4Ψ/W             pΨ + 4Ψ/W            8Ψ/W
//   2      pΨ + 4Ψ/W             4Ψ/W                 8Ψ/W
//   3      4Ψ/W                  4Ψ/W                 8Ψ/W
//
// so stage 3 holds 16Ψ/W (the ZeRO paper's figure for mixed-precision Adam:
// the compute-dtype copy of a shard is made only while it is gathered).
// Padding each unit to a multiple of W adds at most W-1 elements per unit.
// Transient buffers (a gathered unit's parameters and gradient in stage 3,
// a unit's full gradient in stage 2) come on top while a step runs.

#include <cstdint>

namespace dstrain::zero {

struct ModelStateBytes {
  std::int64_t params = 0;
  std::int64_t grads = 0;
  std::int64_t optimizer = 0;

  std::int64_t total() const { return params + grads + optimizer; }
};

ModelStateBytes ExpectedModelStateBytes(int stage, std::int64_t psi, int world,
                                        int param_bytes);

}  // namespace dstrain::zero
