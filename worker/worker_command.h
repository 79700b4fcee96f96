#pragma once
// The worker process's whole life: `dstrain worker` (the CLI) and
// `dstrain-worker` (the engine-only executable) both call RunWorkerCommand.
//
// Environment (torchrun-style; all optional, defaults = one process):
//   RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE   who this process is
//   DSTRAIN_JOB_ID, DSTRAIN_ATTEMPT                  labels for metrics
//   MASTER_ADDR, MASTER_PORT    TCPStore rendezvous when no store is given
//                               and WORLD_SIZE > 1 (rank 0 serves it)
//   DSTRAIN_COMM_HOST           address peers reach this rank's collectives
//                               at (default 127.0.0.1 when all ranks are
//                               local, else this host's name)
//   GLOO_SOCKET_IFNAME          network interface for Gloo (wins over host)
//   DSTRAIN_METRICS_FD          fd to write JSON lines to (metrics_json.h):
//                               one "step" object per step, one "result"
//
// Exit codes: 0 trained; 1 failed (one line `dstrain worker: <reason>` on
// stderr); 2 invalid job file, overrides or environment (nothing started).
// Rank 0 prints a startup line and a summary to stdout; without a metrics
// fd it also prints a progress line per step. Call from the main thread.

#include <memory>
#include <string>
#include <vector>

#include "worker/rendezvous/kv_store.h"

namespace dstrain {

struct WorkerCommandOptions {
  std::string job_path;
  std::vector<std::string> overrides;  // `dotted.key=value`, like --set
};

// `store` may be null: then WORLD_SIZE == 1 uses an in-memory store and
// WORLD_SIZE > 1 a TCPStore at MASTER_ADDR:MASTER_PORT.
int RunWorkerCommand(const WorkerCommandOptions& options,
                     std::shared_ptr<rendezvous::KeyValueStore> store);

}  // namespace dstrain
