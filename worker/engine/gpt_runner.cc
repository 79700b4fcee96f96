#include "worker/engine/gpt_runner.h"

namespace dstrain::engine {

at::Tensor ShardedGptLoss(models::GptImpl& model, zero::ZeroEngine& engine,
                          const at::Tensor& idx, const at::Tensor& targets) {
  models::GptImpl* m = &model;
  // Segment functions may be called again in backward (recompute), after
  // this function returned: they hold what they use by value.
  at::Tensor x = engine.Run(
      0, at::Tensor(), [m, idx](const at::Tensor&) { return m->Embed(idx); });
  const int layers = model.options().layers;
  for (int i = 0; i < layers; ++i) {
    x = engine.Run(1 + i, x,
                   [m, i](const at::Tensor& in) { return m->RunBlock(i, in); });
  }
  return engine.Run(0, x, [m, targets](const at::Tensor& in) {
    return m->HeadLoss(in, targets);
  });
}

}  // namespace dstrain::engine
