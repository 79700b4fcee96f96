#include "worker/comm/communicator_factory.h"

#include "worker/comm/checked_communicator.h"
#include "worker/comm/gloo_communicator.h"
#include "worker/comm/nccl/nccl_communicator.h"
#ifdef DSTRAIN_HAVE_MPI
#include "worker/comm/mpi/mpi_communicator.h"
#endif

namespace dstrain::comm {
namespace {

StatusOr<std::unique_ptr<Communicator>> MakeMpi(const CommunicatorSpec& spec) {
#ifdef DSTRAIN_HAVE_MPI
  mpi::MpiOptions options;
  options.timeout = spec.timeout;
  options.store = spec.store;
  DSTRAIN_ASSIGN_OR_RETURN(std::unique_ptr<Communicator> comm,
                           mpi::CreateMpiWorldCommunicator(options));
  if ((comm)->rank() != spec.rank || (comm)->size() != spec.size) {
    return InvalidArgument(
        "backend mpi: this process is rank " + std::to_string((comm)->rank()) +
        " of " + std::to_string((comm)->size()) +
        " in MPI_COMM_WORLD, but was asked to be rank " +
        std::to_string(spec.rank) + " of " + std::to_string(spec.size));
  }
  return comm;
#else
  (void)spec;
  return InvalidArgument(
      "backend mpi: this build has no MPI (install libopenmpi-dev and "
      "rebuild)");
#endif
}

}  // namespace

StatusOr<std::unique_ptr<Communicator>> MakeCommunicator(
    const CommunicatorSpec& spec) {
  StatusOr<std::unique_ptr<Communicator>> comm =
      InvalidArgument("no backend chosen");
  switch (spec.backend) {
    case config::Backend::kAuto:
    case config::Backend::kGloo: {
      GlooOptions gloo;
      gloo.host = spec.host;
      gloo.interface = spec.interface;
      gloo.timeout = spec.timeout;
      comm = CreateGlooCommunicator(spec.store, spec.rank, spec.size, gloo);
      break;
    }
    case config::Backend::kMpi:
      comm = MakeMpi(spec);
      break;
    case config::Backend::kNccl: {
      NcclOptions nccl;
      nccl.device = spec.device;
      nccl.timeout = spec.timeout;
      comm = CreateNcclCommunicator(spec.store, spec.rank, spec.size, nccl);
      break;
    }
  }
  if (!comm.ok()) return comm.status();
  return MaybeWithShapeChecks(std::move(comm).value(), /*requested=*/false);
}

}  // namespace dstrain::comm
