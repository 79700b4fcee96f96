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
// the MPI runtime (MPI_Comm_split_type, see mpi_runtime.h). The world rank
// comes from OMPI_COMM_WORLD_RANK, PMIX_RANK or PMI_RANK. Pure.

#include <functional>
#include <optional>
#include <string>

namespace dstrain::comm::mpi {

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

// `env` returns a variable's value or nullptr (std::getenv by default).
using EnvLookup = std::function<const char*(const char*)>;

MpiLaunchEnv DetectMpiLaunch(const EnvLookup& env);
MpiLaunchEnv DetectMpiLaunch();

}  // namespace dstrain::comm::mpi
