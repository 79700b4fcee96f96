#pragma once
// The MPI backend of comm::Communicator (Open MPI 4.1): for
// processes started by mpirun or `srun --mpi=pmix`. Every collective is the
// matching nonblocking MPI call on a private duplicate of MPI_COMM_WORLD (or
// of a Split of it), so its traffic never mixes with anyone else's:
//   AllReduce      MPI_Iallreduce (in place)
//   AllGather      MPI_Iallgather
//   ReduceScatter  MPI_Ireduce_scatter_block
//   Broadcast      MPI_Ibcast
//   Barrier        MPI_Ibarrier
//   Split          an all-gather of every rank's (colour, key), then
//                  MPI_Comm_split(colour or MPI_UNDEFINED, key)
// CPU tensors of the dtypes communicator.h lists (float16 and bfloat16 are
// reduced by user-defined MPI ops through float; mpi_types.h). kAvg is a sum
// followed by a division on each rank. Zero-element collectives complete at
// once. A tensor of more than 2^31-1 elements is refused (MPI counts are
// int).
//
// Waiting: Work::Wait polls MPI_Test (Open MPI progresses nonblocking
// collectives only inside MPI calls) until the collective completes or the
// communicator's timeout, counted from when the collective was started,
// passes. Then the error is DEADLINE_EXCEEDED naming the collective and,
// through a progress board kept in `store`, the ranks that never started
// it. A timed-out collective cannot be cancelled in MPI: the communicator is
// aborted (every later call fails at once with ABORTED), and the buffers of
// the stuck collective are kept alive until the process exits.
//
// Threads: collectives and Waits may come from any one thread at a time
// (MPI_THREAD_SERIALIZED; mpi_runtime.h). InitMpi must have succeeded.
// Every communicator must be destroyed before FinalizeMpi.

#include <chrono>
#include <memory>
#include <string>

#include "worker/comm/communicator.h"
#include "common/rendezvous/kv_store.h"

namespace dstrain::comm::mpi {

struct MpiOptions {
  // How long a collective may take, from its start to its completion.
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  // Where ranks publish their progress so that a timeout can name the
  // ranks that never arrived (the mpirun bootstrap store; mpi_store.h).
  // May be null: then a timeout says it cannot tell.
  std::shared_ptr<rendezvous::KeyValueStore> store;
  // Progress keys live under this prefix; Split children under
  // `key_prefix/split<N>/color<C>`.
  std::string key_prefix = "mpi/world";
  std::chrono::milliseconds progress_interval{1000};
};

// A communicator over every process of MPI_COMM_WORLD. Collective: every
// process calls it.
StatusOr<std::unique_ptr<Communicator>> CreateMpiWorldCommunicator(
    const MpiOptions& options);

}  // namespace dstrain::comm::mpi
