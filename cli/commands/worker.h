#pragma once
// `dstrain worker --job FILE [--set k=v]...`: one rank of a job. Started by
// an agent (DSTRAIN_COORDINATOR set: rendezvous through the coordinator's
// key-value store, with DSTRAIN_TOKEN, DSTRAIN_JOB_ID, DSTRAIN_ATTEMPT), or
// directly by torchrun-style launchers (then RunWorkerCommand uses
// MASTER_ADDR/MASTER_PORT, or runs a single process). Returns
// RunWorkerCommand's exit code; 2 when the coordinator variables are
// incomplete.

#include <string>
#include <vector>

namespace dstrain::cli {

int RunWorker(const std::string& job_path,
              const std::vector<std::string>& overrides);

}  // namespace dstrain::cli
