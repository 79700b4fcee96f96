#include "cli/engine/library_versions.h"

#ifdef DSTRAIN_HAVE_NCCL
#include <nccl.h>
#endif

namespace dstrain::cli {

std::string NcclVersion() {
#ifdef DSTRAIN_HAVE_NCCL
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  // NCCL_VERSION(X,Y,Z) = X*10000 + Y*100 + Z since 2.9.
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
         std::to_string(v % 100);
#else
  return "not built in";
#endif
}

}  // namespace dstrain::cli
