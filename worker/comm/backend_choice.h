#pragma once
// Which communicator backend a worker trains with: the job's `backend`, with `auto` resolved from how the worker was started, and
// a check that the chosen backend can run there. Pure functions; no MPI or
// torch here, so the CLI and the tests use them freely.
//
// `auto`:
//   device cuda                                   -> nccl
//   device cpu, started by mpirun/srun (MPI env),
//     no coordinator                              -> mpi
//   otherwise                                     -> gloo

#include "common/config/job_config.h"
#include "common/status.h"

namespace dstrain::comm {

struct LaunchFacts {
  config::Device device = config::Device::kCpu;
  // The process was started by an MPI launcher (mpirun, srun --mpi=pmix):
  // see common/contract/mpi_launch_env.h.
  bool launched_by_mpi = false;
  // A dstrain coordinator (DSTRAIN_COORDINATOR) provides the rendezvous.
  bool has_coordinator = false;
};

// `auto` resolved; an explicit choice comes back unchanged.
config::Backend ChooseBackend(config::Backend requested,
                              const LaunchFacts& facts);

// Whether `chosen` can run in this process: mpi needs an MPI launch without
// a coordinator and a build with MPI. INVALID_ARGUMENT says how to launch.
Status CheckBackendRunnable(config::Backend chosen, const LaunchFacts& facts,
                            bool built_with_mpi);

}  // namespace dstrain::comm
