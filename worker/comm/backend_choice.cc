#include "worker/comm/backend_choice.h"

namespace dstrain::comm {

config::Backend ChooseBackend(config::Backend requested,
                              const LaunchFacts& facts) {
  if (requested != config::Backend::kAuto) return requested;
  if (facts.device == config::Device::kCuda) return config::Backend::kNccl;
  if (facts.launched_by_mpi && !facts.has_coordinator) {
    return config::Backend::kMpi;
  }
  return config::Backend::kGloo;
}

Status CheckBackendRunnable(config::Backend chosen, const LaunchFacts& facts,
                            bool built_with_mpi) {
  if (chosen != config::Backend::kMpi) return Status::Ok();
  if (!built_with_mpi) {
    return InvalidArgument(
        "backend mpi: this build has no MPI (install libopenmpi-dev and "
        "rebuild)");
  }
  if (facts.has_coordinator) {
    return InvalidArgument(
        "backend mpi needs an MPI launch, not a coordinator: mpirun -np N "
        "dstrain worker --job FILE");
  }
  if (!facts.launched_by_mpi) {
    return InvalidArgument(
        "backend mpi needs an MPI launch: mpirun -np N dstrain worker --job "
        "FILE");
  }
  if (facts.device != config::Device::kCpu) {
    return InvalidArgument("backend mpi runs on device cpu only");
  }
  return Status::Ok();
}

}  // namespace dstrain::comm
