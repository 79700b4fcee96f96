#pragma once
// A model the trainer can train, and the registry that makes one from the
// job's `model:` section.
//
// A TrainableModel owns a torch module and knows how the module splits
// into ZeRO units (worker/models/model_unit.h) and how one micro-batch's
// loss runs unit by unit through a ZeRO engine (each segment of its
// forward order through ZeroEngine::Run, so parameters are gathered,
// recomputed and reduced per unit). With every ZeRO stage, with and
// without recompute, that loss must equal the module's own unsharded loss
// on the same weights.
//
// Adding a model: one file that implements TrainableModel and one line in
// the registry's table (model_registry.cc), plus the name in the job
// schema's `model.type` choices. Not thread-safe: one training thread.

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/models/model_unit.h"
#include "worker/zero/zero_engine.h"

namespace torch::nn {
class Module;
}

namespace dstrain::engine {

class TrainableModel {
 public:
  virtual ~TrainableModel() = default;

  // The module: its parameters, device and train/eval mode.
  virtual torch::nn::Module& module() = 0;
  // Initialises every parameter from `gen` (the same on every rank).
  virtual void ResetParameters(at::Generator& gen) = 0;
  // The ZeRO units and the order the forward runs them in.
  virtual std::vector<models::ModelUnit> Units() = 0;
  virtual std::vector<int> UnitForwardOrder() const = 0;
  // The mean loss of one micro-batch: inputs and targets are [B, T] int64
  // token ids. `zero` was made from Units() and UnitForwardOrder().
  virtual at::Tensor Loss(zero::ZeroEngine& zero, const at::Tensor& inputs,
                          const at::Tensor& targets) = 0;
};

// The model `model.type` names, built from the job's model section (which
// job validation has accepted). UNIMPLEMENTED for a type no model
// registers.
StatusOr<std::unique_ptr<TrainableModel>> MakeModel(
    const config::ModelConfig& config);

// UNIMPLEMENTED naming `model.type` unless a model registers that type.
Status CheckModelType(const std::string& type);

// The registered types, for messages and tests (the job schema's
// `model.type` choices must be these: a test keeps them equal).
std::vector<std::string> RegisteredModelTypes();

}  // namespace dstrain::engine
