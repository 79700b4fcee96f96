// Only the version macros: no libtorch code, no fmt.
#include <torch/headeronly/version.h>

#include "cli/engine/library_versions.h"

namespace dstrain::cli {

std::string TorchVersion() { return TORCH_VERSION; }

}  // namespace dstrain::cli
