// The table of models the trainer can build, by `model.type`.

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "worker/engine/gpt_model.h"
#include "worker/engine/trainable_model.h"

namespace dstrain::engine {
namespace {

using Factory =
    std::function<std::unique_ptr<TrainableModel>(const config::ModelConfig&)>;

const std::vector<std::pair<std::string, Factory>>& Registry() {
  static const std::vector<std::pair<std::string, Factory>> kModels = {
      {"gpt", &MakeGptModel},
  };
  return kModels;
}

}  // namespace

Status CheckModelType(const std::string& type) {
  for (const auto& entry : Registry()) {
    if (entry.first == type) return Status::Ok();
  }
  return Unimplemented("`model.type: " + type +
                       "` is not a model this engine has (it has: " +
                       Join(RegisteredModelTypes(), ", ") + ")");
}

StatusOr<std::unique_ptr<TrainableModel>> MakeModel(
    const config::ModelConfig& config) {
  for (const auto& [type, make] : Registry()) {
    if (type == config.type) return make(config);
  }
  return CheckModelType(config.type);
}

std::vector<std::string> RegisteredModelTypes() {
  std::vector<std::string> out;
  for (const auto& entry : Registry()) out.push_back(entry.first);
  return out;
}

}  // namespace dstrain::engine
