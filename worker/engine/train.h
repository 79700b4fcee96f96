#pragma once
// The training engine's entry point: one rank's whole training run.
//
// RunTraining builds the model, data and optimizer from the job, bootstraps
// the communicator through `store`, trains `job.train.steps` steps and
// returns what the rank ended with. It calls `on_step` on the calling thread
// after every optimizer step. libtorch exceptions never escape: they come
// back as a non-OK Status naming what failed.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/config/job_config.h"
#include "common/status.h"
#include "worker/rendezvous/kv_store.h"

namespace dstrain::engine {

// Who this process is in the job.
struct RankContext {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string job_id = "local";
  int attempt = 0;
  std::string hostname;
  // Where this rank's collectives listen: an address or hostname its peers
  // can reach (127.0.0.1 when every rank is on one host), or a network
  // interface name, which wins when set (like GLOO_SOCKET_IFNAME).
  std::string comm_host = "127.0.0.1";
  std::string comm_interface;
};

// What a rank set up, reported once before the first step.
struct TrainSetup {
  std::string backend;  // e.g. "gloo"
  std::int64_t param_count = 0;
  std::int64_t dataset_bytes = 0;
  int dataset_files = 0;
  std::int64_t global_batch = 0;     // sequences per optimizer step
  std::int64_t tokens_per_step = 0;  // global_batch * seq_len
  double setup_s = 0;                // from RunTraining's start
};

// One optimizer step as seen by this rank.
struct StepReport {
  int step = 0;  // 1-based
  int total_steps = 0;
  double loss = 0;  // mean over this step's global batch (all ranks)
  double lr = 0;
  double grad_norm = 0;     // before clipping
  double tokens_per_s = 0;  // whole job: global batch tokens / step time
  double step_time_s = 0;
  double comm_time_s = 0;
  double loss_scale = 1;
  double elapsed_s = 0;
  std::int64_t peak_rss_bytes = 0;
};

struct TrainResult {
  int steps = 0;
  double final_loss = 0;
  // FNV-1a 64 of every parameter's bytes in registration order, as 16 hex
  // digits: ranks with equal digests hold bitwise-equal parameters.
  std::string param_digest;
  std::int64_t param_count = 0;
};

using StepCallback = std::function<void(const StepReport&)>;
using SetupCallback = std::function<void(const TrainSetup&)>;

// `store` must be non-null and shared by all ranks of the job attempt.
// `on_setup` (optional) runs once, after the communicator formed and before
// the first step. Features the job asks for that this engine lacks (ZeRO
// stages > 0, AMP, recompute, CUDA, nccl/mpi) are UNIMPLEMENTED errors.
StatusOr<TrainResult> RunTraining(
    const config::JobConfig& job, const RankContext& ctx,
    std::shared_ptr<rendezvous::KeyValueStore> store,
    const StepCallback& on_step, const SetupCallback& on_setup = nullptr);

}  // namespace dstrain::engine
