#include "common/contract/mpi_launch_env.h"

#include "common/strings.h"

namespace dstrain::contract {
namespace {

bool Present(const EnvLookup& env, const char* name) {
  return !env(name).value_or("").empty();
}

std::optional<int> NonNegativeInt(const EnvLookup& env, const char* name) {
  const std::optional<int> v = ParseInteger<int>(env(name).value_or(""));
  if (!v || *v < 0) return std::nullopt;
  return v;
}

}  // namespace

MpiLaunchEnv DetectMpiLaunch(const EnvLookup& env) {
  MpiLaunchEnv out;
  if (Present(env, "OMPI_COMM_WORLD_SIZE")) {
    out.launcher = "mpirun (OMPI_COMM_WORLD_SIZE)";
  } else if (Present(env, "PMIX_RANK")) {
    out.launcher = "a PMIx launcher (PMIX_RANK)";
  } else if (Present(env, "PMI_RANK")) {
    out.launcher = "a PMI launcher (PMI_RANK)";
  } else {
    return out;
  }
  out.launched = true;
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"}) {
    out.rank = NonNegativeInt(env, name);
    if (out.rank.has_value()) break;
  }
  out.local_rank = NonNegativeInt(env, "OMPI_COMM_WORLD_LOCAL_RANK");
  out.local_size = NonNegativeInt(env, "OMPI_COMM_WORLD_LOCAL_SIZE");
  if (out.local_size && *out.local_size == 0) out.local_size.reset();
  return out;
}

MpiLaunchEnv DetectMpiLaunch() {
  return DetectMpiLaunch(ProcessEnvironment());
}

}  // namespace dstrain::contract
