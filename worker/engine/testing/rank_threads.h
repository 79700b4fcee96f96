#pragma once
// The engine tests' world: every rank of a job on its own thread of this
// process, real collectives between them over one in-memory store, each
// rank an engine::Trainer. Header-only; for tests.

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/rendezvous/in_memory_kv_store.h"
#include "worker/engine/trainer.h"

namespace dstrain::engine::testing {

struct RankRun {
  Status status;
  TrainResult result;
  TrainSetup setup;
  std::vector<StepReport> steps;
  std::vector<std::string> master_digests;  // after each step, when asked
  std::vector<float> final_parameters;      // when asked
};

struct WorldOptions {
  bool final_parameters = false;  // RankRun::final_parameters
  bool master_digests = false;    // RankRun::master_digests
  // Whether that rank's reduced gradient gets an inf at that (1-based) step.
  std::function<bool(int rank, int step)> inject;
  // End the run after this 1-based step (and its checkpoint), as a
  // preemption would; 0 runs every step.
  int stop_after_step = 0;
  // Resume from the newest complete checkpoint (`dstrain launch --resume`).
  bool resume = false;
};

// Records what a trainer reports.
class RecordingObserver : public TrainObserver {
 public:
  RecordingObserver(RankRun& run, int rank, const WorldOptions& options)
      : run_(run), rank_(rank), options_(options) {}
  void OnSetup(const TrainSetup& s) override { run_.setup = s; }
  void OnStep(const StepReport& s) override { run_.steps.push_back(s); }
  bool WantsMasterDigests() const override { return options_.master_digests; }
  void OnMasterDigest(int, const std::string& d) override {
    run_.master_digests.push_back(d);
  }
  bool InjectInfGradient(int step) override {
    return options_.inject && options_.inject(rank_, step);
  }

 private:
  RankRun& run_;
  const int rank_;
  const WorldOptions& options_;
};

// Runs one rank on the calling thread.
inline RankRun RunRank(const config::JobConfig& job, RankContext ctx,
                       std::shared_ptr<rendezvous::KeyValueStore> store,
                       const WorldOptions& options = {}) {
  RankRun run;
  ctx.resume = ctx.resume || options.resume;
  RecordingObserver observer(run, ctx.rank, options);
  run.status = [&]() -> Status {
    DSTRAIN_ASSIGN_OR_RETURN(
        std::unique_ptr<Trainer> trainer,
        Trainer::Create(job, ctx, std::move(store), &observer));
    while (!trainer->done() &&
           (options.stop_after_step == 0 ||
            trainer->step() < options.stop_after_step)) {
      DSTRAIN_RETURN_IF_ERROR(trainer->Step());
    }
    DSTRAIN_ASSIGN_OR_RETURN(run.result, trainer->Finish());
    if (options.final_parameters) run.final_parameters = trainer->Parameters();
    return Status::Ok();
  }();
  return run;
}

// Runs `world` ranks, one thread each, on one host.
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
      runs[r] = RunRank(job, ctx, store, options);
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
