#pragma once
// The worker's start-up line (rank 0 prints it once the trainer is ready):
// what runs, on how many ranks, with which engine features on, so a log
// shows how a run was configured without the job file beside it.

#include <string>

#include "common/config/job_config.h"
#include "worker/engine/trainer.h"

namespace dstrain::worker {

// For example:
//   dstrain worker: job charlm, 4 ranks, backend gloo; gpt 2 layers d_model
//   128, 412.0K params; ZeRO stage 3, AMP bf16, recompute on, checkpoints every
//   25 steps (async) in runs/charlm/ckpt; 2048 tokens/step, data 5.1 MiB in
//   1 file; ready in 0.4 s
// `checkpoint_dir` is where checkpoints go (ignored when they are off).
std::string SetupLine(const config::JobConfig& job, int world_size,
                      const engine::TrainSetup& setup,
                      const std::string& checkpoint_dir);

}  // namespace dstrain::worker
