#pragma once
// ZeRO stages 0-3 from one mechanism: the model's parameters,
// gradients and AdamW state laid out per unit (shard_layout.h), gathered
// and released around each unit's use (unit_schedule.h), reduced across
// the ranks of one communicator.
//
// What each stage keeps per rank (Ψ parameters, W ranks; fp32 here, see
// model_state_formula.h for other compute dtypes):
//   0  full parameters (the fp32 master itself), full gradients, full AdamW
//      state; one all-reduce (average) of all gradients per step; every rank
//      steps everything.                                             16Ψ
//   1  full parameters and gradients, master + AdamW state for its shard;
//      after backward each unit's gradient is reduce-scattered (average),
//      the rank steps its shard, each unit is all-gathered again.  8Ψ+16Ψ/W
//   2  as 1, but each unit's gradient is reduce-scattered during backward,
//      right after the unit's last backward use, into the rank's fp32
//      gradient shard, and the full gradient is freed.            4Ψ+16Ψ/W
//   3  as 2, and only the shard of the parameters is kept: a unit is
//      all-gathered (in the compute dtype) before its forward, with the
//      next `prefetch` units' gathers in flight while it computes; released
//      after its forward (reshard_after_forward; the root unit stays until
//      its last backward use, as FSDP keeps its root); gathered again before
//      its backward (prefetching in reverse order); its gradient
//      reduce-scattered and the full buffers released after it.       16Ψ/W
// Gradient accumulation: stages 0/1 accumulate full gradients over the
// micro-batches and reduce once; stages 2/3 reduce every micro-batch and
// accumulate the averaged shards.
//
// Released means released: a stage-3 unit's parameters are views of one
// flat tensor whose storage is emptied (its data pointer reset, nbytes 0)
// and re-allocated before the next gather, so the memory really goes back.
// Autograd's saved tensors that view it become valid again once refilled,
// which happens before the unit's backward. Between uses the module's
// parameters hold no memory: read them only after GatherAll().
//
// A step, on the rank's training thread (collectives are issued in the
// same order on every rank; hooks run on this thread during backward):
//
//   engine.BeginStep();
//   for each micro-batch:
//     engine.BeginMicroBatch();
//     loss = model's forward through engine.Run(unit, input, fn), per
//            segment, in the declared forward order;
//     (loss / accum).backward();
//     engine.FinishMicroBatch(/*last=*/...);
//   ...grads(): this rank's fp32 gradient, reduced (AMP unscales here and
//      computes its local inf/NaN flag)...
//   stats = engine.ReduceStats(local_loss, local_found_inf);  // 1 all-reduce
//   if (!stats.found_inf) { engine.ScaleGrads(clip); engine.Step(lr); }
//
// Checkpoints (worker/checkpoint) read and write a rank's state through
// layouts(), arena(), master(), optimizer() (exp_avg, exp_avg_sq,
// step_count) and call RefreshParameters() after writing master().
//
// Errors: collectives that fail throw base::StatusError (also out of
// backward()); misuse throws c10::Error. Not thread-safe.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/config/job_config.h"
#include "common/sizing/model_state_formula.h"
#include "common/status.h"
#include "worker/comm/communicator.h"
#include "worker/models/model_unit.h"
#include "worker/optim/flat_adamw.h"
#include "worker/recompute/segment.h"
#include "worker/zero/shard_layout.h"
#include "worker/zero/unit_schedule.h"

namespace dstrain::zero {

struct ZeroOptions {
  int stage = 0;
  int prefetch = 1;  // units gathered ahead of use (stage 3)
  bool reshard_after_forward = true;
  bool recompute = false;    // checkpoint the recomputable units
  bool preserve_rng = true;  // recompute with the forward's RNG states
  bool cuda_rng = false;     // ... including the current CUDA generator
  // dtype of gathered parameters and of their gradients (compute dtype);
  // master weights, reduced gradients and AdamW state are fp32.
  at::ScalarType param_dtype = at::kFloat;
  // Where every buffer lives (the model's device; the communicator must
  // take tensors there: nccl for cuda).
  c10::Device device = c10::kCPU;

  static ZeroOptions FromJob(const config::JobConfig& job);
};

struct StepStats {
  double loss = 0;         // mean over ranks of the local losses
  double grad_norm = 0;    // global L2 norm of the reduced gradient
  bool found_inf = false;  // some rank reported inf/NaN
  bool stop = false;       // some rank was asked to stop (preemption)
};

struct MemoryStats {
  sizing::ModelStateBytes now;  // model state allocated right now
  // Largest model state allocated at once since ResetPeaks (transient
  // gathered parameters and full gradients included).
  std::int64_t peak_model_state = 0;
  std::int64_t gathers = 0;     // all-gathers issued since ResetPeaks
  std::int64_t reductions = 0;  // gradient reductions issued since then
};

class ZeroEngine {
 public:
  // Takes over the units' parameters (they become views into the engine's
  // buffers). Their current values must be finite; rank 0's are broadcast,
  // so every rank starts from the same point. `forward_order` as in
  // UnitSchedule. `comm` must outlive the engine.
  static StatusOr<std::unique_ptr<ZeroEngine>> Create(
      std::vector<models::ModelUnit> units, std::vector<int> forward_order,
      comm::Communicator& comm, const ZeroOptions& options,
      const config::OptimizerConfig& optimizer);
  ~ZeroEngine();
  ZeroEngine(const ZeroEngine&) = delete;
  ZeroEngine& operator=(const ZeroEngine&) = delete;

  // ---- a step ----------------------------------------------------------
  void BeginStep();
  void BeginMicroBatch();
  // Runs fn(input) as the next segment of the forward order, which must use
  // `unit`; `input` may be undefined (the first segment). Returns fn's
  // output, connected to autograd (see recompute/segment.h).
  at::Tensor Run(int unit, const at::Tensor& input,
                 const recompute::SegmentFn& fn);
  // After the micro-batch's backward. `last`: the step's gradients are
  // complete once this returns (reduced, in grads()).
  void FinishMicroBatch(bool last);

  // This rank's fp32 gradient, laid out like master() (arena()).
  const at::Tensor& grads() const { return grads_; }
  // One all-reduce: the mean of the ranks' losses, the global gradient
  // norm, and whether any rank found inf/NaN.
  StepStats ReduceStats(double local_loss, bool local_found_inf,
                        bool local_stop = false);
  void ScaleGrads(double factor);
  // AdamW on this rank's master at `lr`, then the compute parameters
  // follow (stage 0: in place; 1/2: all-gathers, waited before each
  // unit's next use; 3: at the next gather).
  void Step(double lr);

  // Waits for every collective in flight.
  void Sync();
  // Gathers every unit and keeps it gathered until its next use in a step
  // (stage 3), so the module's parameters can be read.
  void GatherAll();

  // ---- state -----------------------------------------------------------
  int stage() const { return options_.stage; }
  int rank() const { return rank_; }
  int world() const { return world_; }
  const std::vector<UnitLayout>& layouts() const { return layouts_; }
  const ArenaLayout& arena() const { return arena_; }
  const UnitSchedule& schedule() const { return schedule_; }
  // fp32 master weights this rank owns (arena layout). Writable; call
  // RefreshParameters() after writing.
  const at::Tensor& master() const { return master_; }
  optim::FlatAdamW& optimizer() { return *optimizer_; }
  void RefreshParameters();
  std::int64_t param_count() const { return param_count_; }

  MemoryStats memory() const;
  void ResetPeaks();
  // Seconds spent blocked on collectives since ResetPeaks.
  double comm_wait_s() const { return comm_wait_s_; }

 private:
  struct Unit;
  struct PendingReduction;

  ZeroEngine(std::vector<models::ModelUnit> units, std::vector<int> order,
             comm::Communicator& comm, const ZeroOptions& options);
  void Init(const config::OptimizerConfig& optimizer);

  at::Tensor MasterShard(int u) const;
  at::Tensor GradShard(int u) const;

  void BeforeUse(int pos);
  void AfterForwardUse(int pos, bool training);
  void AfterBackwardUse(int pos);

  void IssueGather(int u);
  void WaitGather(int u);
  void Release(int u);
  void Materialize(int u);

  void AcquireGrad(int u);
  void ReduceUnitGrad(int u);
  void WaitOldestReduction();
  void CheckGradViews(int u) const;

  // Starts a collective: `start` calls the communicator. The time spent in
  // the call counts as communication too: a composed all-reduce (the
  // topology plan's hierarchical route) does some of its phases there.
  template <class Start>
  std::unique_ptr<comm::Work> Issue(Start&& start) {
    const auto t0 = std::chrono::steady_clock::now();
    StatusOr<std::unique_ptr<comm::Work>> w = start();
    comm_wait_s_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
    return Started(std::move(w));
  }
  std::unique_ptr<comm::Work> Started(StatusOr<std::unique_ptr<comm::Work>> w);
  void Await(comm::Work& work);
  void AddTransient(std::int64_t param_bytes, std::int64_t grad_bytes);

  ZeroOptions options_;
  comm::Communicator& comm_;
  int rank_;
  int world_;
  std::vector<models::ModelUnit> model_units_;
  std::vector<UnitLayout> layouts_;
  UnitSchedule schedule_;
  ArenaLayout arena_;
  std::vector<std::unique_ptr<Unit>> units_;
  std::int64_t param_count_ = 0;

  at::Tensor param_arena_;  // stages 0-2: every unit's full parameters
  at::Tensor master_;       // fp32, arena layout (== param_arena_ in stage
                            // 0 with fp32 compute)
  at::Tensor grad_arena_;   // stages 0/1: every unit's full gradient
  at::Tensor grads_;        // fp32, arena layout (== grad_arena_ in stage 0
                            // with fp32 compute)
  std::unique_ptr<optim::FlatAdamW> optimizer_;
  at::Tensor anchor_;  // gives the first segment a graph edge

  std::deque<std::unique_ptr<PendingReduction>> reductions_;
  std::vector<bool> grad_written_;  // per unit, this step
  int next_forward_ = 0;
  int backward_done_ = 0;
  bool training_micro_batch_ = false;

  // Accounting.
  std::int64_t persistent_param_bytes_ = 0;
  std::int64_t persistent_grad_bytes_ = 0;
  std::int64_t transient_param_bytes_ = 0;
  std::int64_t transient_grad_bytes_ = 0;
  std::int64_t peak_transient_ = 0;
  std::int64_t gathers_ = 0;
  std::int64_t reductions_issued_ = 0;
  double comm_wait_s_ = 0;
};

}  // namespace dstrain::zero
