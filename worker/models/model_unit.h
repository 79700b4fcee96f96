#pragma once
// How a model splits into units for ZeRO sharding (worker/zero): each unit's
// parameters are flattened, sharded and gathered together. A model lists
// its units and the order in which its forward runs them (a unit may run
// more than once: see worker/zero/unit_schedule.h).

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace dstrain::models {

struct ModelUnit {
  std::string name;  // e.g. "root", "blocks.3"
  // (qualified name, the module's parameter) in the model's order.
  std::vector<std::pair<std::string, at::Tensor>> params;
  // Whether activation checkpointing recomputes this unit's segments.
  bool recomputable = false;
};

}  // namespace dstrain::models
