#include "worker/engine/gpt_model.h"

namespace dstrain::engine {

at::Tensor ShardedGptLoss(models::GptImpl& model, zero::ZeroEngine& zero,
                          const at::Tensor& idx, const at::Tensor& targets) {
  models::GptImpl* m = &model;
  // Segment functions may be called again in backward (recompute), after
  // this function returned: they hold what they use by value.
  at::Tensor x = zero.Run(
      0, at::Tensor(), [m, idx](const at::Tensor&) { return m->Embed(idx); });
  const int layers = model.options().layers;
  for (int i = 0; i < layers; ++i) {
    x = zero.Run(1 + i, x,
                 [m, i](const at::Tensor& in) { return m->RunBlock(i, in); });
  }
  return zero.Run(0, x, [m, targets](const at::Tensor& in) {
    return m->HeadLoss(in, targets);
  });
}

namespace {

class GptModel : public TrainableModel {
 public:
  explicit GptModel(const config::ModelConfig& config)
      : gpt_(models::GptOptions::FromConfig(config)) {}

  torch::nn::Module& module() override { return *gpt_; }
  void ResetParameters(at::Generator& gen) override {
    gpt_->ResetParameters(gen);
  }
  std::vector<models::ModelUnit> Units() override { return gpt_->Units(); }
  std::vector<int> UnitForwardOrder() const override {
    return gpt_->UnitForwardOrder();
  }

  at::Tensor Loss(zero::ZeroEngine& zero, const at::Tensor& idx,
                  const at::Tensor& targets) override {
    return ShardedGptLoss(*gpt_, zero, idx, targets);
  }

 private:
  models::Gpt gpt_;
};

}  // namespace

std::unique_ptr<TrainableModel> MakeGptModel(
    const config::ModelConfig& config) {
  return std::make_unique<GptModel>(config);
}

}  // namespace dstrain::engine
