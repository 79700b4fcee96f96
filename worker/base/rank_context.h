#pragma once
// Who a training process is in its job, and what its launcher told it
// (decoded from common/contract/worker_env.h by the worker command, or set
// directly by tests that run ranks as threads). Plain data.

#include <string>
#include <vector>

#include "common/contract/grad_routes.h"
#include "common/contract/worker_env.h"

namespace dstrain::base {

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
  // This rank's part of the coordinator's topology plan
  // (worker/comm/plan_communicators.h): the sub-communicators to split off
  // the world and the gradient all-reduce's route by size; both empty
  // without a plan.
  std::vector<contract::SubCommunicator> sub_communicators;
  std::vector<GradRoute> grad_routes;
  // Checkpoints (worker/checkpoint/train_checkpoints.h): the run directory
  // (checkpoint.dir defaults to <run_dir>/ckpt), and whether to resume from
  // the newest complete checkpoint (`dstrain launch --resume`; an attempt
  // > 0, a restart, resumes too).
  std::string run_dir;
  bool resume = false;
  // Where this rank reports its collectives and step to its agent
  // (common/contract/progress_record.h); empty: nowhere.
  std::string progress_file;
};

}  // namespace dstrain::base
