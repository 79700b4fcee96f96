#include "worker/zero/zero_engine.h"

#include <ATen/ATen.h>
#include <c10/core/StorageImpl.h>

#include <chrono>
#include <cmath>

#include "worker/base/memory_tracker.h"
#include "worker/base/status_error.h"

namespace dstrain::zero {
namespace {

using base::MemoryCategory;
using base::ScopedMemoryCategory;

// At most this many unit gradients wait to be reduced at once (each holds
// a full gradient buffer until its reduce-scatter completes).
constexpr std::size_t kMaxPendingReductions = 2;

std::int64_t Bytes(const at::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<std::int64_t>(t.element_size())
                     : 0;
}

}  // namespace

struct ZeroEngine::Unit {
  std::vector<at::Tensor> params;  // module parameters, model order
  bool recomputable = false;
  // Full (padded) parameters in the compute dtype. Stages 0-2: a view
  // into param_arena_; stage 3: a tensor of its own whose storage is
  // released between uses.
  at::Tensor full;
  bool gathered = true;
  std::unique_ptr<comm::Work> gather;  // in flight into `full`
  at::Tensor gather_src;               // keeps a cast shard alive
  // Full gradient in the compute dtype (stages 0/1: a view into
  // grad_arena_; 2/3: allocated for the unit's backward).
  at::Tensor full_grad;
};

struct ZeroEngine::PendingReduction {
  int unit = 0;
  std::unique_ptr<comm::Work> work;
  at::Tensor input;         // the full gradient, alive until done
  at::Tensor output;        // the rank's slice, or a scratch to add/cast from
  bool into_shard = false;  // output IS the gradient shard
  bool accumulate = false;
};

ZeroOptions ZeroOptions::FromJob(const config::JobConfig& job) {
  ZeroOptions o;
  o.stage = job.zero.stage;
  o.prefetch = job.zero.prefetch;
  o.reshard_after_forward = job.zero.reshard_after_forward;
  o.recompute = job.recompute.enabled;
  o.preserve_rng = job.model.dropout > 0;
  o.cuda_rng = job.device == config::Device::kCuda;
  return o;
}

StatusOr<std::unique_ptr<ZeroEngine>> ZeroEngine::Create(
    std::vector<models::ModelUnit> units, std::vector<int> forward_order,
    comm::Communicator& comm, const ZeroOptions& options,
    const config::OptimizerConfig& optimizer) {
  if (options.stage < 0 || options.stage > 3) {
    return InvalidArgument("zero.stage " + std::to_string(options.stage) +
                           " is not 0, 1, 2 or 3");
  }
  if (options.prefetch < 0) {
    return InvalidArgument("zero.prefetch must be >= 0");
  }
  std::unique_ptr<ZeroEngine> e;
  try {
    e.reset(new ZeroEngine(std::move(units), std::move(forward_order), comm,
                           options));
    e->Init(optimizer);
  } catch (const base::StatusError& err) {
    return err.status();
  } catch (const std::exception& err) {
    return InvalidArgument(std::string("ZeRO setup: ") + err.what());
  }
  return e;
}

ZeroEngine::ZeroEngine(std::vector<models::ModelUnit> units,
                       std::vector<int> order, comm::Communicator& comm,
                       const ZeroOptions& options)
    : options_(options),
      comm_(comm),
      rank_(comm.rank()),
      world_(comm.size()),
      model_units_(std::move(units)),
      schedule_(std::move(order), static_cast<int>(model_units_.size())) {
  for (const models::ModelUnit& mu : model_units_) {
    std::vector<ParamSpec> specs;
    for (const auto& [name, p] : mu.params) {
      TORCH_CHECK(p.scalar_type() == at::kFloat && p.is_contiguous(),
                  "parameter ", name, " must be a contiguous fp32 tensor");
      specs.push_back({name, p.sizes().vec()});
    }
    layouts_.push_back(LayoutUnit(mu.name, specs, world_));
    param_count_ += layouts_.back().numel;
  }
  arena_ = LayoutArena(layouts_, rank_, /*sharded=*/options_.stage > 0);
}

ZeroEngine::~ZeroEngine() {
  // Nothing may still write into buffers about to be freed.
  for (auto& u : units_) {
    if (u->gather) (void)u->gather->Wait();
  }
  for (auto& r : reductions_) (void)r->work->Wait();
}

at::Tensor ZeroEngine::MasterShard(int u) const {
  return master_.narrow(0, arena_.offset[u], arena_.owned[u].size());
}

at::Tensor ZeroEngine::GradShard(int u) const {
  return grads_.narrow(0, arena_.offset[u], arena_.owned[u].size());
}

void ZeroEngine::Init(const config::OptimizerConfig& optimizer) {
  at::NoGradGuard no_grad;
  ScopedMemoryCategory category(MemoryCategory::kModelState);
  const int stage = options_.stage;
  const at::ScalarType pdt = options_.param_dtype;
  const bool fp32 = pdt == at::kFloat;
  const auto f32 =
      at::TensorOptions().dtype(at::kFloat).device(options_.device);
  const auto compute = at::TensorOptions().dtype(pdt).device(options_.device);

  std::int64_t total_padded = 0;
  for (const UnitLayout& l : layouts_) total_padded += l.padded_numel;
  if (stage <= 2) param_arena_ = at::empty({total_padded}, compute);
  const bool master_is_params = stage == 0 && fp32;
  master_ = master_is_params ? param_arena_ : at::empty({arena_.numel}, f32);

  std::int64_t arena_offset = 0;
  for (std::size_t i = 0; i < layouts_.size(); ++i) {
    const UnitLayout& l = layouts_[i];
    auto unit = std::make_unique<Unit>();
    unit->recomputable = model_units_[i].recomputable;
    for (const auto& [name, p] : model_units_[i].params) {
      unit->params.push_back(p);
    }
    // The unit's fp32 values, padded with zeros; rank 0's win.
    at::Tensor init = at::zeros({l.padded_numel}, f32);
    for (const ParamSlot& s : l.params) {
      init.narrow(0, s.offset, s.spec.numel())
          .copy_(unit->params[s.index].reshape({-1}));
    }
    if (world_ > 1) {
      ScopedMemoryCategory comm_category(MemoryCategory::kComm);
      Await(*Issue([&] { return comm_.Broadcast(init, /*root=*/0); }));
    }
    unit->full = stage <= 2
                     ? param_arena_.narrow(0, arena_offset, l.padded_numel)
                     : at::empty({l.padded_numel}, compute);
    arena_offset += l.padded_numel;
    unit->full.copy_(init);
    if (!master_is_params) {
      master_.narrow(0, arena_.offset[i], arena_.owned[i].size())
          .copy_(init.narrow(0, arena_.owned[i].begin, arena_.owned[i].size()));
    }
    for (const ParamSlot& s : l.params) {
      at::Tensor& p = unit->params[s.index];
      p.set_data(
          unit->full.narrow(0, s.offset, s.spec.numel()).view(p.sizes()));
    }
    units_.push_back(std::move(unit));
  }

  // Gradients.
  if (stage <= 1) {
    grad_arena_ = at::zeros({total_padded}, compute);
    std::int64_t off = 0;
    for (std::size_t i = 0; i < layouts_.size(); ++i) {
      Unit& u = *units_[i];
      u.full_grad = grad_arena_.narrow(0, off, layouts_[i].padded_numel);
      off += layouts_[i].padded_numel;
      for (const ParamSlot& s : layouts_[i].params) {
        at::Tensor& p = u.params[s.index];
        p.mutable_grad() =
            u.full_grad.narrow(0, s.offset, s.spec.numel()).view(p.sizes());
      }
    }
  }
  grads_ = stage == 0 && fp32 ? grad_arena_ : at::zeros({arena_.numel}, f32);
  grad_written_.assign(layouts_.size(), false);

  optimizer_ =
      std::make_unique<optim::FlatAdamW>(master_, arena_.decay, optimizer);
  anchor_ = at::empty({0}, f32).requires_grad_(true);

  persistent_param_bytes_ =
      Bytes(param_arena_) + (master_is_params ? 0 : Bytes(master_));
  persistent_grad_bytes_ =
      Bytes(grad_arena_) + (stage == 0 && fp32 ? 0 : Bytes(grads_));

  // Stage 3 keeps only the shard: release every unit until its first use.
  if (stage == 3) {
    for (std::size_t i = 0; i < units_.size(); ++i) {
      transient_param_bytes_ += Bytes(units_[i]->full);
      Release(static_cast<int>(i));
    }
  }
  ResetPeaks();
}

// ---- collectives ------------------------------------------------------------

std::unique_ptr<comm::Work> ZeroEngine::Started(
    StatusOr<std::unique_ptr<comm::Work>> w) {
  if (!w.ok()) throw base::StatusError(w.status());
  return std::move(w).value();
}

void ZeroEngine::Await(comm::Work& work) {
  const auto t0 = std::chrono::steady_clock::now();
  const Status s = work.Wait();
  comm_wait_s_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  base::ThrowIfError(s);
}

void ZeroEngine::AddTransient(std::int64_t param_bytes,
                              std::int64_t grad_bytes) {
  transient_param_bytes_ += param_bytes;
  transient_grad_bytes_ += grad_bytes;
  peak_transient_ =
      std::max(peak_transient_, transient_param_bytes_ + transient_grad_bytes_);
}

// ---- parameters ------------------------------------------------------------

void ZeroEngine::Materialize(int u) {
  Unit& x = *units_[u];
  c10::StorageImpl* s = x.full.storage().unsafeGetStorageImpl();
  if (s->nbytes() != 0) return;
  const std::int64_t bytes = Bytes(x.full);
  ScopedMemoryCategory category(MemoryCategory::kModelState);
  s->set_data_ptr_noswap(s->allocator()->allocate(bytes));
  s->set_nbytes(bytes);
  AddTransient(bytes, 0);
}

void ZeroEngine::Release(int u) {
  Unit& x = *units_[u];
  if (x.gather) WaitGather(u);
  c10::StorageImpl* s = x.full.storage().unsafeGetStorageImpl();
  if (s->nbytes() != 0) {
    AddTransient(-Bytes(x.full), 0);
    s->set_data_ptr_noswap(at::DataPtr(nullptr, x.full.device()));
    s->set_nbytes(0);
  }
  x.gathered = false;
}

void ZeroEngine::IssueGather(int u) {
  Unit& x = *units_[u];
  if (x.gathered || x.gather) return;
  if (options_.stage == 3) Materialize(u);
  at::Tensor src = MasterShard(u);
  if (options_.param_dtype != at::kFloat) {
    ScopedMemoryCategory category(MemoryCategory::kModelState);
    src = src.to(options_.param_dtype);
    AddTransient(Bytes(src), 0);
  }
  x.gather_src = src;
  ScopedMemoryCategory category(MemoryCategory::kComm);
  x.gather = Issue([&] { return comm_.AllGather(src, x.full); });
  ++gathers_;
}

void ZeroEngine::WaitGather(int u) {
  Unit& x = *units_[u];
  if (!x.gather) return;
  std::unique_ptr<comm::Work> work = std::move(x.gather);
  Await(*work);
  if (options_.param_dtype != at::kFloat) AddTransient(-Bytes(x.gather_src), 0);
  x.gather_src.reset();
  x.gathered = true;
}

// ---- gradients -------------------------------------------------------------

void ZeroEngine::AcquireGrad(int u) {
  if (options_.stage <= 1) return;  // persistent views
  Unit& x = *units_[u];
  {
    ScopedMemoryCategory category(MemoryCategory::kModelState);
    x.full_grad =
        at::zeros({layouts_[u].padded_numel}, at::TensorOptions()
                                                  .dtype(options_.param_dtype)
                                                  .device(options_.device));
  }
  AddTransient(0, Bytes(x.full_grad));
  for (const ParamSlot& s : layouts_[u].params) {
    at::Tensor& p = x.params[s.index];
    p.mutable_grad() =
        x.full_grad.narrow(0, s.offset, s.spec.numel()).view(p.sizes());
  }
}

void ZeroEngine::CheckGradViews(int u) const {
  const Unit& x = *units_[u];
  for (const ParamSlot& s : layouts_[u].params) {
    const at::Tensor& g = x.params[s.index].grad();
    // Autograd accumulates in place into a defined gradient (grad mode is
    // off in backward); anything else would lose this unit's gradient.
    TORCH_CHECK(
        !g.defined() ||
            g.data_ptr() == static_cast<const char*>(x.full_grad.data_ptr()) +
                                s.offset * x.full_grad.element_size(),
        "the gradient of ", s.spec.name,
        " left its flat buffer (was backward run with create_graph?)");
  }
}

void ZeroEngine::ReduceUnitGrad(int u) {
  Unit& x = *units_[u];
  CheckGradViews(u);
  if (options_.stage >= 2) {
    for (at::Tensor& p : x.params) p.mutable_grad().reset();
  }
  auto r = std::make_unique<PendingReduction>();
  r->unit = u;
  r->input = options_.stage >= 2 ? std::move(x.full_grad) : x.full_grad;
  r->accumulate = grad_written_[u];
  r->into_shard = !r->accumulate && options_.param_dtype == at::kFloat;
  grad_written_[u] = true;
  if (r->into_shard) {
    r->output = GradShard(u);
  } else {
    ScopedMemoryCategory category(MemoryCategory::kModelState);
    r->output = at::empty({layouts_[u].shard_numel}, r->input.options());
    AddTransient(0, Bytes(r->output));
  }
  {
    ScopedMemoryCategory category(MemoryCategory::kComm);
    r->work = Issue([&] {
      return comm_.ReduceScatter(r->input, r->output, comm::ReduceOp::kAvg);
    });
  }
  ++reductions_issued_;
  reductions_.push_back(std::move(r));
  while (reductions_.size() > kMaxPendingReductions) WaitOldestReduction();
}

void ZeroEngine::WaitOldestReduction() {
  std::unique_ptr<PendingReduction> r = std::move(reductions_.front());
  reductions_.pop_front();
  Await(*r->work);
  if (!r->into_shard) {
    at::NoGradGuard no_grad;
    at::Tensor shard = GradShard(r->unit);
    if (r->accumulate) {
      shard.add_(r->output);
    } else {
      shard.copy_(r->output);
    }
    AddTransient(0, -Bytes(r->output));
  }
  if (options_.stage >= 2) AddTransient(0, -Bytes(r->input));
}

// ---- the schedule ----------------------------------------------------------

void ZeroEngine::BeforeUse(int pos) {
  const int u = schedule_.unit_at(pos);
  IssueGather(u);
  for (int v : schedule_.PrefetchAfter(pos, options_.prefetch)) {
    IssueGather(v);
  }
  WaitGather(u);
  if (schedule_.IsFirstBackwardUse(pos)) AcquireGrad(u);
}

void ZeroEngine::AfterForwardUse(int pos, bool training) {
  if (options_.stage != 3) return;
  const int u = schedule_.unit_at(pos);
  bool keep = schedule_.KeepGatheredAfter(pos, options_.reshard_after_forward);
  if (!training) {
    // No backward follows: keep only for a later forward use.
    keep = false;
    for (int p = pos + 1; p < schedule_.forward_uses(); ++p) {
      if (schedule_.unit_at(p) == u) keep = true;
    }
  }
  if (!keep) Release(u);
}

void ZeroEngine::AfterBackwardUse(int pos) {
  const int u = schedule_.unit_at(pos);
  ++backward_done_;
  if (options_.stage == 3 &&
      !schedule_.KeepGatheredAfter(pos, options_.reshard_after_forward)) {
    Release(u);
  }
  if (options_.stage >= 2 && schedule_.IsLastBackwardUse(pos)) {
    ReduceUnitGrad(u);
  }
}

at::Tensor ZeroEngine::Run(int unit, const at::Tensor& input,
                           const recompute::SegmentFn& fn) {
  const int pos = next_forward_;
  TORCH_CHECK(pos < schedule_.forward_uses(),
              "more segments ran than the forward order has (",
              schedule_.forward_uses(), "); missing BeginMicroBatch?");
  TORCH_CHECK(schedule_.unit_at(pos) == unit, "segment ", pos,
              " of the forward order uses unit ", schedule_.unit_at(pos),
              ", not ", unit);
  ++next_forward_;
  const bool training = at::GradMode::is_enabled();
  training_micro_batch_ = training_micro_batch_ || training;
  BeforeUse(pos);
  at::Tensor y;
  if (!training) {
    y = fn(input);
  } else {
    const int bpos = schedule_.size() - 1 - pos;
    recompute::SegmentOptions so;
    so.recompute = options_.recompute && units_[unit]->recomputable;
    so.preserve_rng = options_.preserve_rng;
    so.cuda_rng = options_.cuda_rng;
    recompute::SegmentHooks hooks;
    hooks.before_backward = [this, bpos] { BeforeUse(bpos); };
    hooks.after_backward = [this, bpos] { AfterBackwardUse(bpos); };
    y = recompute::RunSegment(fn, input, so, std::move(hooks), anchor_);
  }
  AfterForwardUse(pos, training);
  return y;
}

// ---- steps -----------------------------------------------------------------

void ZeroEngine::BeginStep() {
  at::NoGradGuard no_grad;
  if (grad_arena_.defined()) grad_arena_.zero_();
  grad_written_.assign(layouts_.size(), false);
  ResetPeaks();
}

void ZeroEngine::BeginMicroBatch() {
  next_forward_ = 0;
  backward_done_ = 0;
  training_micro_batch_ = false;
}

void ZeroEngine::FinishMicroBatch(bool last) {
  TORCH_CHECK(next_forward_ == schedule_.forward_uses(), "only ", next_forward_,
              " of ", schedule_.forward_uses(),
              " segments ran in this micro-batch");
  TORCH_CHECK(!training_micro_batch_ || backward_done_ == schedule_.size() / 2,
              "backward reached ", backward_done_, " of ", schedule_.size() / 2,
              " segments");
  if (!last) return;
  at::NoGradGuard no_grad;
  switch (options_.stage) {
    case 0: {
      for (std::size_t u = 0; u < units_.size(); ++u) {
        CheckGradViews(static_cast<int>(u));
      }
      std::unique_ptr<comm::Work> w;
      {
        ScopedMemoryCategory category(MemoryCategory::kComm);
        w = Issue(
            [&] { return comm_.AllReduce(grad_arena_, comm::ReduceOp::kAvg); });
      }
      ++reductions_issued_;
      Await(*w);
      if (!grads_.is_same(grad_arena_)) grads_.copy_(grad_arena_);
      break;
    }
    case 1:
      for (std::size_t u = 0; u < units_.size(); ++u) {
        ReduceUnitGrad(static_cast<int>(u));
      }
      [[fallthrough]];
    default:
      while (!reductions_.empty()) WaitOldestReduction();
      for (std::size_t u = 0; u < units_.size(); ++u) {
        if (!grad_written_[u]) GradShard(static_cast<int>(u)).zero_();
      }
      break;
  }
}

StepStats ZeroEngine::ReduceStats(double local_loss, bool local_found_inf,
                                  bool local_stop) {
  at::NoGradGuard no_grad;
  double sq = 0;
  // Stage 0: every rank holds the same full gradient, so one counts it.
  if (options_.stage > 0 || rank_ == 0) {
    const double n = grads_.norm().item<double>();
    sq = n * n;
  }
  at::Tensor t = at::tensor({local_loss, sq, local_found_inf ? 1.0 : 0.0,
                             local_stop ? 1.0 : 0.0},
                            at::TensorOptions().dtype(at::kDouble))
                     .to(options_.device);
  if (world_ > 1) {
    ScopedMemoryCategory category(MemoryCategory::kComm);
    Await(*Issue([&] { return comm_.AllReduce(t, comm::ReduceOp::kSum); }));
  }
  if (!t.is_cpu()) t = t.cpu();
  const double* v = t.data_ptr<double>();
  StepStats s;
  s.loss = v[0] / world_;
  s.grad_norm = std::sqrt(v[1]);
  s.found_inf = v[2] > 0;
  s.stop = v[3] > 0;
  return s;
}

void ZeroEngine::ScaleGrads(double factor) {
  at::NoGradGuard no_grad;
  grads_.mul_(factor);
}

void ZeroEngine::Step(double lr) {
  Sync();
  optimizer_->Step(grads_, lr);
  RefreshParameters();
}

void ZeroEngine::RefreshParameters() {
  at::NoGradGuard no_grad;
  Sync();
  switch (options_.stage) {
    case 0:
      if (!master_.is_same(param_arena_)) param_arena_.copy_(master_);
      break;
    case 1:
    case 2:
      for (auto& u : units_) u->gathered = false;
      for (std::size_t u = 0; u < units_.size(); ++u) {
        IssueGather(static_cast<int>(u));
      }
      break;
    default:
      for (std::size_t u = 0; u < units_.size(); ++u) {
        Release(static_cast<int>(u));
      }
      break;
  }
}

void ZeroEngine::Sync() {
  for (std::size_t u = 0; u < units_.size(); ++u) {
    WaitGather(static_cast<int>(u));
  }
  while (!reductions_.empty()) WaitOldestReduction();
}

void ZeroEngine::GatherAll() {
  for (std::size_t u = 0; u < units_.size(); ++u) {
    IssueGather(static_cast<int>(u));
  }
  Sync();
}

MemoryStats ZeroEngine::memory() const {
  MemoryStats m;
  m.now.params = persistent_param_bytes_ + transient_param_bytes_;
  m.now.grads = persistent_grad_bytes_ + transient_grad_bytes_;
  m.now.optimizer = optimizer_ ? optimizer_->state_bytes() : 0;
  m.peak_model_state = persistent_param_bytes_ + persistent_grad_bytes_ +
                       m.now.optimizer + peak_transient_;
  m.gathers = gathers_;
  m.reductions = reductions_issued_;
  return m;
}

void ZeroEngine::ResetPeaks() {
  peak_transient_ = transient_param_bytes_ + transient_grad_bytes_;
  gathers_ = 0;
  reductions_issued_ = 0;
  comm_wait_s_ = 0;
}

}  // namespace dstrain::zero
