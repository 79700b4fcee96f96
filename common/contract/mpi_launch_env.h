#pragma once
// Was this process started by an MPI launcher? Read from the environment the
// launchers set, before (and without) initialising MPI, so a build without
// MPI can still say "this needs MPI" and a plain run never starts MPI.
//
//   OMPI_COMM_WORLD_SIZE   Open MPI's mpirun / mpiexec
//   PMIX_RANK              a PMIx launcher (srun --mpi=pmix, prun; mpirun too)
//   PMI_RANK               a PMI-1/2 launcher (srun --mpi=pmi2, MPICH hydra)
//
// Open MPI also tells each process its rank and process count on its node
// (OMPI_COMM_WORLD_LOCAL_RANK / _LOCAL_SIZE); other launchers leave these to
// the MPI runtime (MPI_Comm_split_type, see worker/comm/mpi/mpi_runtime.h). The world rank
// comes from OMPI_COMM_WORLD_RANK, PMIX_RANK or PMI_RANK. Pure.

#include <optional>
#include <string>

#include "common/contract/worker_env.h"

namespace dstrain::contract {

struct MpiLaunchEnv {
  bool launched = false;
  // Which variable gave it away, for messages: "mpirun (OMPI_COMM_WORLD_SIZE)".
  std::string launcher;
  // This process's world rank as the launcher numbered it (before MPI
  // starts; for deciding who prints a shared error).
  std::optional<int> rank;
  std::optional<int> local_rank;
  std::optional<int> local_size;
};

// From `env` (common/contract/worker_env.h; the process's environment by
// default).
MpiLaunchEnv DetectMpiLaunch(const EnvLookup& env);
MpiLaunchEnv DetectMpiLaunch();

}  // namespace dstrain::contract
