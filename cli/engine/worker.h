#pragma once
// `dstrain worker --job FILE [--set k=v]... [--metrics-file PATH]`: one rank
// of a job. Started by an agent (DSTRAIN_COORDINATOR set: rendezvous through
// the coordinator's key-value store, with DSTRAIN_TOKEN, DSTRAIN_JOB_ID,
// DSTRAIN_ATTEMPT), by mpirun / srun (the MPI launch mode of
// worker/worker_command.h), or by torchrun-style launchers (then
// RunWorkerCommand uses MASTER_ADDR/MASTER_PORT, or runs a single process).
// Returns RunWorkerCommand's exit code; 2 when the coordinator variables are
// incomplete.

#include <string>
#include <vector>

namespace dstrain::cli {

// `metrics_file`: --metrics-file (WorkerCommandOptions::metrics_file);
// empty for none.
int RunWorker(const std::string& job_path,
              const std::vector<std::string>& overrides,
              const std::string& metrics_file = "");

}  // namespace dstrain::cli
