#pragma once
// The one place the engine turns a job's `backend` into a Communicator
// (train.cc calls it), so each backend is wired in here once:
//   gloo  CreateGlooCommunicator over `store` (gloo_communicator.h)
//   mpi   CreateMpiWorldCommunicator (mpi/mpi_communicator.h): the ranks of
//         MPI_COMM_WORLD; MPI must be initialised (the mpirun launch mode
//         of worker_command.cc does it) and rank/size must be MPI's
//   nccl  CreateNcclCommunicator over `store` (nccl/nccl_communicator.h) on
//         CUDA device `device`; FAILED_PRECONDITION without a CUDA device
//         or in a build without NCCL
// `auto` means gloo here: a launcher that knows more (an MPI launch, a
// CUDA device) resolves it first with ChooseBackend (backend_choice.h).
// The result is wrapped in the shape checker when DSTRAIN_COMM_CHECK asks
// (checked_communicator.h). Collective: every rank of the group calls it.

#include <chrono>
#include <memory>
#include <string>

#include "common/config/job_config.h"
#include "worker/comm/communicator.h"
#include "common/rendezvous/kv_store.h"

namespace dstrain::comm {

struct CommunicatorSpec {
  config::Backend backend = config::Backend::kAuto;
  int rank = 0;
  int size = 1;
  // gloo: the address (or interface name, which wins) peers reach this
  // rank's collectives at.
  std::string host = "127.0.0.1";
  std::string interface;
  // nccl: the CUDA device index of this rank (usually LOCAL_RANK).
  int device = -1;
  // Rendezvous and per-collective timeout.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Shared by every rank: gloo's rendezvous, and every backend's progress
  // board (naming ranks that never arrive).
  std::shared_ptr<rendezvous::KeyValueStore> store;
};

StatusOr<std::unique_ptr<Communicator>> MakeCommunicator(
    const CommunicatorSpec& spec);

}  // namespace dstrain::comm
