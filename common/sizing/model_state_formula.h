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
#include <span>

namespace dstrain::sizing {

struct ModelStateBytes {
  std::int64_t params = 0;
  std::int64_t grads = 0;
  std::int64_t optimizer = 0;

  std::int64_t total() const { return params + grads + optimizer; }
};

ModelStateBytes ExpectedModelStateBytes(int stage, std::int64_t psi, int world,
                                        int param_bytes);

// The same, byte for byte as the engine holds it between steps: each
// unit's buffer (`unit_numels`, in the model's unit order) padded to a
// multiple of W. With P = Σ padded units and O = P/W (stage >= 1) or P
// (stage 0), the parameters are pP (stages 0-2) + 4O (the fp32 master,
// unless stage 0 in fp32 where the parameters are the master) + pO in
// stages 1-2 when p ≠ 4 (the compute-dtype copy of the shard that the
// all-gather after the optimizer step sends, held until the next forward
// waits for it); the gradients pP (stages 0-1) + 4O (unless stage 0 in
// fp32); the optimizer 8O.
ModelStateBytes ExactModelStateBytes(int stage,
                                     std::span<const std::int64_t> unit_numels,
                                     int world, int param_bytes);

// What comes on top of the state at rest while a step runs, at its peak
// (an estimate of ZeroEngine's peak_model_state less the state at rest):
// in stages 2-3 up to three units' full gradients in the compute dtype
// wait for their reduce-scatter (the engine keeps two in flight while a
// third is made), with their shard-sized outputs when p ≠ 4; stage 3 also
// holds the root unit gathered through the whole micro-batch and
// `prefetch` + 1 other units. Stages 0-1 add nothing (their full buffers
// are at rest). unit_numels[0] is the root unit.
std::int64_t TransientModelStateBytes(int stage,
                                      std::span<const std::int64_t> unit_numels,
                                      int world, int param_bytes, int prefetch);

}  // namespace dstrain::sizing
