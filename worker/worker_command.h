#pragma once
// The worker process's whole life: `dstrain worker` (the CLI) and
// `dstrain-worker` (the engine-only executable) both call RunWorkerCommand.
//
// Who the process is and what its launcher told it come from the
// environment, as common/contract/worker_env.h defines it (torchrun's RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR/MASTER_PORT, and
// dstrain's DSTRAIN_* variables); all optional, defaults = one process. A
// world of more than one rank needs a store: the one given (the
// coordinator's), else a TCPStore at MASTER_ADDR:MASTER_PORT served by
// rank 0. Collectives listen on DSTRAIN_COMM_HOST, else 127.0.0.1 when
// every rank is on this host, else this host's name. Metrics lines
// (common/contract/metrics_lines.h) go to the metrics fd and
// --metrics-file: one "step" object per step, one "result".
//
// MPI launch mode: a process started by mpirun or `srun --mpi=pmix`
// (OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK set; see
// common/contract/mpi_launch_env.h) with no coordinator (no store given, no
// DSTRAIN_COORDINATOR) takes its rank, world size and local rank from MPI
// (RANK, WORLD_SIZE, LOCAL_RANK and MASTER_* are ignored), and its
// rendezvous store is a TCPStore served by rank 0 on a free port whose
// address MPI_Bcast hands to every rank. `backend: auto` then means mpi on
// CPU (worker/comm/backend_choice.h); `backend: gloo` bootstraps Gloo
// through that store. MPI ends with MPI_Finalize when training succeeds; a
// rank that fails after MPI started calls MPI_Abort, so the launcher stops
// the others at once. The launcher decides the world size: the job's
// nodes and procs_per_node are not consulted.
//
// Exit codes: 0 trained; 1 failed (one line `dstrain worker: <reason>` on
// stderr); 2 invalid job file, overrides, environment or backend for this
// launch (nothing started; under MPI only rank 0 prints a job file error);
// 75 stopped on request: SIGTERM or SIGUSR1 to any rank makes every rank
// end after the same step with a checkpoint of it
// (common/contract/exit_codes.h). Those signals no longer end a worker at
// once, so whoever stops workers escalates to SIGKILL after a grace (the
// agent does). Rank 0 prints a startup line and a summary to stdout; without a
// metrics fd it also prints a progress line per step. Call from the main
// thread.

#include <memory>
#include <string>
#include <vector>

#include "common/rendezvous/kv_store.h"

namespace dstrain {

struct WorkerCommandOptions {
  std::string job_path;
  // --job-origin: where the job file was submitted from, when job_path is
  // a copy of it (an agent's): its relative paths resolve against this
  // path's folder and messages name it. Empty: job_path itself.
  std::string job_origin;
  std::vector<std::string> overrides;  // `dotted.key=value`, like --set
  // --metrics-file: where each rank writes the same JSON lines as the
  // metrics fd (also when there is one). `{rank}` in the path is replaced
  // by the rank; a path without it gets `.rank<N>` appended, so ranks never
  // share a file. The file is truncated at start. Empty: none.
  std::string metrics_file;
};

// The file rank `rank` writes for --metrics-file `path`.
std::string MetricsFileForRank(const std::string& path, int rank);

// `store` may be null: then WORLD_SIZE == 1 uses an in-memory store and
// WORLD_SIZE > 1 a TCPStore at MASTER_ADDR:MASTER_PORT.
int RunWorkerCommand(const WorkerCommandOptions& options,
                     std::shared_ptr<rendezvous::KeyValueStore> store);

}  // namespace dstrain
