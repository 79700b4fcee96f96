#pragma once
// The engine tests' world: every rank of a job on its own thread of this
// process, real Gloo between them over one in-memory store, through
// engine::RunTraining. Header-only; for tests.

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "worker/engine/train.h"
#include "worker/rendezvous/in_memory_kv_store.h"

namespace dstrain::engine::testing {

struct RankRun {
  Status status;
  TrainResult result;
  std::vector<StepReport> steps;
  std::vector<std::string> master_digests;  // after each step, when asked
};

struct WorldOptions {
  bool final_parameters = false;  // TrainResult::final_parameters
  bool master_digests = false;    // RankRun::master_digests
  // Whether that rank's reduced gradient gets an inf at that (1-based) step.
  std::function<bool(int rank, int step)> inject;
};

inline std::vector<RankRun> RunWorld(const config::JobConfig& job, int world,
                                     const WorldOptions& options = {}) {
  auto store = std::make_shared<rendezvous::InMemoryKvStore>();
  std::vector<RankRun> runs(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      RankContext ctx;
      ctx.rank = r;
      ctx.world_size = world;
      ctx.local_rank = r;
      ctx.local_world_size = world;
      TrainHooks hooks;
      hooks.on_step = [&](const StepReport& s) { runs[r].steps.push_back(s); };
      hooks.collect_final_parameters = options.final_parameters;
      if (options.master_digests) {
        hooks.on_master_digest = [&, r](int, const std::string& d) {
          runs[r].master_digests.push_back(d);
        };
      }
      if (options.inject) {
        hooks.inject_inf_grad = [&, r](int step) {
          return options.inject(r, step);
        };
      }
      StatusOr<TrainResult> res = RunTraining(job, ctx, store, hooks);
      if (res.ok()) {
        runs[r].result = *res;
      } else {
        runs[r].status = res.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return runs;
}

inline std::vector<double> Losses(const RankRun& run) {
  std::vector<double> out;
  for (const StepReport& s : run.steps) out.push_back(s.loss);
  return out;
}

}  // namespace dstrain::engine::testing
