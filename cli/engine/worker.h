#pragma once
// `dstrain worker --job FILE [--job-origin PATH] [--set k=v]...
// [--metrics-file PATH]`: one rank
// of a job. Started by an agent (DSTRAIN_COORDINATOR set: rendezvous through
// the coordinator's key-value store, with DSTRAIN_TOKEN, DSTRAIN_JOB_ID,
// DSTRAIN_ATTEMPT), by mpirun / srun (the MPI launch mode of
// worker/worker_command.h), or by torchrun-style launchers (then
// RunWorkerCommand uses MASTER_ADDR/MASTER_PORT, or runs a single process).
// Returns RunWorkerCommand's exit code; 2 when the coordinator variables are
// incomplete.

#include "worker/worker_command.h"

namespace dstrain::cli {

int RunWorker(const WorkerCommandOptions& options);

}  // namespace dstrain::cli
