#include "worker/comm/mpi/mpi_launch_env.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace dstrain::comm::mpi {
namespace {

bool Present(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v != nullptr && *v != '\0';
}

std::optional<int> NonNegativeInt(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  int out = 0;
  const char* end = v + std::strlen(v);
  const auto [ptr, ec] = std::from_chars(v, end, out);
  if (ec != std::errc() || ptr != end || out < 0) return std::nullopt;
  return out;
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
  return DetectMpiLaunch([](const char* name) { return std::getenv(name); });
}

}  // namespace dstrain::comm::mpi
