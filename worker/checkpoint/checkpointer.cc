#include "worker/checkpoint/checkpointer.h"

#include <ATen/ATen.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include "common/contract/checkpoint_dir.h"
#include "worker/base/memory_tracker.h"
#include "worker/checkpoint/reshard.h"
#include "worker/checkpoint/shard_file.h"
#include "worker/recompute/saved_state.h"

namespace dstrain::checkpoint {
namespace {

namespace fs = std::filesystem;
using base::MemoryCategory;
using base::ScopedMemoryCategory;

const at::TensorOptions kI64 = at::TensorOptions().dtype(at::kLong);

// The rank's three fp32 arena tensors, in shard-file order.
std::array<at::Tensor, 3> ArenaTensors(zero::ZeroEngine& engine) {
  return {engine.master(), engine.optimizer().exp_avg(),
          engine.optimizer().exp_avg_sq()};
}

// A rank's generator states in its shard: the CPU generator's, then, on a
// cuda rank, its GPU's (the current device's, which trainer.cc makes the
// rank's own). A CPU state has one size for a given libtorch, so the reader
// tells the parts apart by length.
std::string StateBytes(const at::Tensor& state) {
  const at::Tensor s = state.contiguous();
  return std::string(static_cast<const char*>(s.data_ptr()),
                     static_cast<std::size_t>(s.numel()));
}

at::Tensor StateTensor(const std::string& bytes) {
  at::Tensor t = at::empty({static_cast<std::int64_t>(bytes.size())},
                           at::TensorOptions().dtype(at::kByte));
  std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

std::string RngBytes(bool with_cuda) {
  const recompute::RngState s = recompute::RngState::Capture(with_cuda);
  std::string out = StateBytes(s.cpu);
  if (s.cuda.has_value()) out += StateBytes(*s.cuda);
  return out;
}

// Restores what `bytes` holds that this rank has: the CPU generator, and the
// GPU's when both sides are cuda. False (nothing restored) when the CPU
// part does not have this libtorch's size.
bool RestoreRng(const std::string& bytes, bool on_cuda) {
  const std::size_t cpu_size = static_cast<std::size_t>(
      recompute::RngState::Capture(/*with_cuda=*/false).cpu.numel());
  if (bytes.size() < cpu_size) return false;
  recompute::RngState state;
  state.cpu = StateTensor(bytes.substr(0, cpu_size));
  // Saved on a GPU and resumed on cpu: the GPU's part is left unused.
  if (on_cuda && bytes.size() > cpu_size) {
    state.cuda = StateTensor(bytes.substr(cpu_size));
  }
  state.Restore();
  return true;
}

// The small control collectives of a save or restore (shard sizes,
// verdicts, the step list) go through the engine's communicator, which for
// nccl takes only tensors on the rank's GPU: on a cuda rank each int64
// tensor goes there and comes back; on cpu nothing is copied.
using Collective = std::function<StatusOr<std::unique_ptr<comm::Work>>(
    at::Tensor& in, at::Tensor& out)>;

Status ControlCollective(const c10::Device& device, const at::Tensor& in,
                         at::Tensor& out, const Collective& collective) {
  if (device.is_cpu()) {
    at::Tensor in_host = in;
    return comm::Await(collective(in_host, out));
  }
  at::Tensor in_dev = in.to(device);
  at::Tensor out_dev = in.is_same(out) ? in_dev : out.to(device);
  DSTRAIN_RETURN_IF_ERROR(comm::Await(collective(in_dev, out_dev)));
  out.copy_(out_dev);
  return Status::Ok();
}

Status AllReduceMax(comm::Communicator& comm, const c10::Device& device,
                    at::Tensor& t) {
  return ControlCollective(device, t, t, [&](at::Tensor& x, at::Tensor&) {
    return comm.AllReduce(x, comm::ReduceOp::kMax);
  });
}

Status BroadcastFromRoot(comm::Communicator& comm, const c10::Device& device,
                         at::Tensor& t) {
  return ControlCollective(device, t, t, [&](at::Tensor& x, at::Tensor&) {
    return comm.Broadcast(x, 0);
  });
}

// Writes `snap` as its rank's shard file in `tmp`; the error (if any)
// names the file.
Status WriteShard(const fs::path& tmp, const ShardSnapshot& snap,
                  ShardWrite* out) {
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) {
    return Internal("cannot create " + tmp.string() + ": " + ec.message());
  }
  out->rng_bytes = static_cast<std::int64_t>(snap.rng.size());
  DSTRAIN_ASSIGN_OR_RETURN(
      ShardWriter w,
      ShardWriter::Create((tmp / ShardFileName(snap.rank, snap.world)).string(),
                          snap.rank, snap.world, snap.rng));
  for (const at::Tensor& piece : snap.pieces) {
    DSTRAIN_RETURN_IF_ERROR(
        w.Append(piece.data_ptr<float>(), piece.numel() * 4));
  }
  DSTRAIN_RETURN_IF_ERROR(w.Finish());
  out->bytes = w.bytes();
  out->crc32c = w.crc32c();
  return Status::Ok();
}

Manifest MakeManifest(const SaveRequest& req, zero::ZeroEngine& engine,
                      const std::int64_t* shard_info) {
  Manifest m;
  m.job_name = req.job_name;
  m.model_hash = req.model_hash;
  m.step = req.step;
  m.data_position = req.data_position;
  m.global_batch = req.global_batch;
  m.world_size = engine.world();
  m.zero_stage = engine.stage();
  m.attempt = req.attempt;
  m.optimizer_step = req.optimizer_step;
  m.loss_scaler = req.loss_scaler;
  for (const zero::UnitLayout& l : engine.layouts()) {
    ManifestUnit u;
    u.name = l.name;
    u.numel = l.numel;
    u.decay_numel = l.decay_numel;
    u.padded_numel = l.padded_numel;
    u.shard_numel = l.shard_numel;
    for (const zero::ParamSlot& s : l.params) {
      u.params.push_back({s.spec.name, s.spec.shape, s.offset});
    }
    m.units.push_back(std::move(u));
  }
  for (int r = 0; r < engine.world(); ++r) {
    ManifestShard s;
    s.rank = r;
    s.file = ShardFileName(r, engine.world());
    s.bytes = shard_info[4 * r + 1];
    s.crc32c = static_cast<std::uint32_t>(shard_info[4 * r + 2]);
    s.rng_bytes = shard_info[4 * r + 3];
    m.shards.push_back(std::move(s));
  }
  return m;
}

// Rank 0: manifest, rename, prune.
Status Publish(const SaveRequest& req, const Manifest& m, const fs::path& tmp,
               const fs::path& final_dir) {
  DSTRAIN_RETURN_IF_ERROR(
      WriteFileSynced((tmp / kManifestFile).string(), SerializeManifest(m)));
  DSTRAIN_RETURN_IF_ERROR(SyncDirectory(tmp.string()));
  const fs::path dir(req.dir);
  std::error_code ec;
  // A checkpoint of this step from an earlier attempt (a restart resumed
  // from an older one) is moved aside first: rename cannot replace a
  // non-empty directory.
  const fs::path retired =
      dir / contract::RetiredDirName(req.step, req.attempt);
  const bool replacing = fs::exists(final_dir, ec);
  if (replacing) {
    (void)RemoveTree(retired.string());
    fs::rename(final_dir, retired, ec);
    if (ec) {
      return Internal("cannot move " + final_dir.string() +
                      " aside: " + ec.message());
    }
  }
  fs::rename(tmp, final_dir, ec);
  if (ec) {
    return Internal("cannot rename " + tmp.string() + " to " +
                    final_dir.string() + ": " + ec.message());
  }
  DSTRAIN_RETURN_IF_ERROR(SyncDirectory(dir.string()));
  if (replacing) (void)RemoveTree(retired.string());
  for (std::int64_t old :
       contract::StepsToPrune(contract::ListCheckpoints(req.dir), req.keep)) {
    (void)RemoveTree((dir / contract::StepDirName(old)).string());
  }
  return Status::Ok();
}

// ---- restore ----------------------------------------------------------

Status CheckSameModel(const Manifest& m, const std::string& model_hash,
                      const zero::ZeroEngine& engine,
                      const std::string& where) {
  auto refuse = [&](const std::string& why) {
    return FailedPrecondition(where + " was written for another model (" + why +
                              "): change the job back, or point " +
                              "checkpoint.dir elsewhere");
  };
  if (m.model_hash != model_hash) {
    return refuse("model hash " + m.model_hash + ", this job's is " +
                  model_hash);
  }
  const std::vector<zero::UnitLayout>& ls = engine.layouts();
  if (m.units.size() != ls.size()) {
    return refuse(std::to_string(m.units.size()) + " units, this model has " +
                  std::to_string(ls.size()));
  }
  for (std::size_t u = 0; u < ls.size(); ++u) {
    const ManifestUnit& mu = m.units[u];
    const zero::UnitLayout& l = ls[u];
    bool same = mu.name == l.name && mu.numel == l.numel &&
                mu.decay_numel == l.decay_numel &&
                mu.params.size() == l.params.size();
    for (std::size_t i = 0; same && i < l.params.size(); ++i) {
      same = mu.params[i].name == l.params[i].spec.name &&
             mu.params[i].shape == l.params[i].spec.shape &&
             mu.params[i].offset == l.params[i].offset;
    }
    if (!same) return refuse("unit " + mu.name + " is laid out differently");
  }
  return Status::Ok();
}

// The saved ranks this rank reads from (and so verifies).
std::set<int> NeededShards(const Manifest& m, const zero::ZeroEngine& engine) {
  std::set<int> out;
  for (std::size_t u = 0; u < m.units.size(); ++u) {
    for (int s : SourcesFor(engine.arena().owned[u], m.units[u].numel,
                            m.units[u].shard_numel, m.world_size)) {
      out.insert(s);
    }
  }
  if (m.world_size == engine.world()) out.insert(engine.rank());
  return out;
}

Status VerifyShards(const Manifest& m, const fs::path& path,
                    const std::set<int>& needed) {
  for (int s : needed) {
    const ManifestShard& sh = m.shards[s];
    const std::string file = (path / sh.file).string();
    DSTRAIN_RETURN_IF_ERROR(VerifyFile(file, sh.bytes, sh.crc32c));
    DSTRAIN_ASSIGN_OR_RETURN(ShardReader r, ShardReader::Open(file));
    DSTRAIN_RETURN_IF_ERROR(r.CheckHeader(s, m.world_size, sh.rng_bytes));
  }
  return Status::Ok();
}

Status Load(const Manifest& m, const fs::path& path,
            const std::set<int>& needed, zero::ZeroEngine& engine,
            bool* rng_restored) {
  std::map<int, ShardReader> readers;
  for (int s : needed) {
    DSTRAIN_ASSIGN_OR_RETURN(
        ShardReader r, ShardReader::Open((path / m.shards[s].file).string()));
    readers.emplace(s, std::move(r));
  }
  std::vector<std::int64_t> saved_shards;
  for (const ManifestUnit& u : m.units) saved_shards.push_back(u.shard_numel);
  const std::array<at::Tensor, 3> arena = ArenaTensors(engine);
  const zero::ArenaLayout& a = engine.arena();
  for (std::size_t u = 0; u < m.units.size(); ++u) {
    const IndexRange want = a.owned[u];
    const std::vector<Piece> pieces =
        PiecesFor(want, m.units[u].numel, m.units[u].shard_numel, m.world_size);
    for (int k = 0; k < 3; ++k) {
      // One unit's part at a time through host memory; padding (past
      // numel) stays zero, as the engine keeps it.
      at::Tensor host = at::zeros({want.size()}, at::kFloat);
      float* dst = host.data_ptr<float>();
      for (const Piece& p : pieces) {
        const std::int64_t off =
            TensorOffset(saved_shards, m.shards[p.src_rank].rng_bytes,
                         static_cast<int>(u), static_cast<ShardTensor>(k)) +
            4 * p.src_offset;
        DSTRAIN_RETURN_IF_ERROR(
            readers.at(p.src_rank)
                .ReadAt(off, dst + p.dst_offset, 4 * p.count));
      }
      arena[k].narrow(0, a.offset[u], want.size()).copy_(host);
    }
  }
  engine.optimizer().set_step_count(m.optimizer_step);
  *rng_restored = false;
  if (m.world_size == engine.world()) {
    const ManifestShard& own = m.shards[engine.rank()];
    DSTRAIN_ASSIGN_OR_RETURN(std::string rng,
                             readers.at(engine.rank()).ReadRng(own.rng_bytes));
    if (!rng.empty()) {
      *rng_restored = RestoreRng(rng, engine.master().is_cuda());
    }
  }
  return Status::Ok();
}

StatusOr<std::string> ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return NotFound("cannot open " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ShardSnapshot TakeShardSnapshot(zero::ZeroEngine& engine, bool copy) {
  at::NoGradGuard no_grad;
  engine.Sync();
  ScopedMemoryCategory category(MemoryCategory::kComm);
  ShardSnapshot snap;
  snap.rank = engine.rank();
  snap.world = engine.world();
  snap.optimizer_step = engine.optimizer().step_count();
  snap.rng = RngBytes(engine.master().is_cuda());
  const std::array<at::Tensor, 3> arena = ArenaTensors(engine);
  const zero::ArenaLayout& a = engine.arena();
  for (std::size_t u = 0; u < engine.layouts().size(); ++u) {
    const zero::UnitLayout& l = engine.layouts()[u];
    const IndexRange slice = zero::ShardRange(l, engine.rank());
    const std::int64_t at = a.offset[u] + slice.begin - a.owned[u].begin;
    for (const at::Tensor& t : arena) {
      // On cpu a view unless asked for a copy; a GPU's state is copied to
      // the host either way.
      at::Tensor piece = t.narrow(0, at, slice.size());
      piece = piece.is_cpu() ? (copy ? piece.clone() : piece.contiguous())
                             : piece.cpu();
      snap.pieces.push_back(std::move(piece));
    }
  }
  return snap;
}

ShardWrite WriteShardSnapshot(const std::string& dir, std::int64_t step,
                              int attempt, const ShardSnapshot& snap) {
  ShardWrite out;
  out.status = WriteShard(fs::path(dir) / contract::TempDirName(step, attempt),
                          snap, &out);
  return out;
}

StatusOr<SaveOutcome> PublishCheckpoint(const SaveRequest& req,
                                        const ShardWrite& wrote,
                                        zero::ZeroEngine& engine,
                                        comm::Communicator& comm) {
  at::NoGradGuard no_grad;
  ScopedMemoryCategory category(MemoryCategory::kComm);
  const int world = engine.world();
  const fs::path tmp =
      fs::path(req.dir) / contract::TempDirName(req.step, req.attempt);
  const fs::path final_dir =
      fs::path(req.dir) / contract::StepDirName(req.step);

  at::Tensor mine =
      at::tensor({std::int64_t{wrote.status.ok() ? 1 : 0}, wrote.bytes,
                  std::int64_t{wrote.crc32c}, wrote.rng_bytes},
                 kI64);
  at::Tensor all = at::empty({4 * world}, kI64);
  const c10::Device device = engine.master().device();
  DSTRAIN_RETURN_IF_ERROR(ControlCollective(
      device, mine, all, [&](at::Tensor& in, at::Tensor& out) {
        return comm.AllGather(in, out);
      }));
  const std::int64_t* info = all.data_ptr<std::int64_t>();
  for (int r = 0; r < world; ++r) {
    if (info[4 * r] == 1) continue;
    if (engine.rank() == 0) (void)RemoveTree(tmp.string());
    if (!wrote.status.ok()) return wrote.status;
    return Internal("checkpoint step " + std::to_string(req.step) + ": rank " +
                    std::to_string(r) + " could not write its shard");
  }

  Status published;
  if (engine.rank() == 0) {
    published = Publish(req, MakeManifest(req, engine, info), tmp, final_dir);
  }
  at::Tensor failed = at::tensor({std::int64_t{published.ok() ? 0 : 1}}, kI64);
  DSTRAIN_RETURN_IF_ERROR(AllReduceMax(comm, device, failed));
  if (!published.ok()) return published;
  if (failed.item<std::int64_t>() != 0) {
    return Internal("checkpoint step " + std::to_string(req.step) +
                    ": rank 0 could not complete it");
  }
  SaveOutcome out;
  out.path = final_dir.string();
  for (int r = 0; r < world; ++r) out.bytes += info[4 * r + 1];
  return out;
}

StatusOr<bool> EveryRank(bool mine, zero::ZeroEngine& engine,
                         comm::Communicator& comm) {
  // The max of "not yet" is 0 only when every rank says yes.
  at::Tensor not_yet = at::tensor({std::int64_t{mine ? 0 : 1}}, kI64);
  DSTRAIN_RETURN_IF_ERROR(
      AllReduceMax(comm, engine.master().device(), not_yet));
  return not_yet.item<std::int64_t>() == 0;
}

StatusOr<SaveOutcome> SaveCheckpoint(const SaveRequest& request,
                                     zero::ZeroEngine& engine,
                                     comm::Communicator& comm) {
  const ShardSnapshot snap = TakeShardSnapshot(engine, /*copy=*/false);
  SaveRequest req = request;
  req.optimizer_step = snap.optimizer_step;
  const ShardWrite wrote =
      WriteShardSnapshot(req.dir, req.step, req.attempt, snap);
  return PublishCheckpoint(req, wrote, engine, comm);
}

StatusOr<RestoreOutcome> RestoreNewest(const std::string& dir,
                                       const std::string& model_hash,
                                       zero::ZeroEngine& engine,
                                       comm::Communicator& comm,
                                       const MessageFn& warn) {
  at::NoGradGuard no_grad;
  engine.Sync();
  // Rank 0's listing decides the candidates, so every rank walks the same
  // list and issues the same collectives.
  std::vector<std::int64_t> steps;
  if (engine.rank() == 0) steps = contract::ListCheckpoints(dir);
  const c10::Device device = engine.master().device();
  {
    ScopedMemoryCategory category(MemoryCategory::kComm);
    at::Tensor n = at::tensor({static_cast<std::int64_t>(steps.size())}, kI64);
    DSTRAIN_RETURN_IF_ERROR(BroadcastFromRoot(comm, device, n));
    at::Tensor list = at::zeros({n.item<std::int64_t>()}, kI64);
    for (std::size_t i = 0; i < steps.size(); ++i) {
      list.data_ptr<std::int64_t>()[i] = steps[i];
    }
    DSTRAIN_RETURN_IF_ERROR(BroadcastFromRoot(comm, device, list));
    steps.assign(list.data_ptr<std::int64_t>(),
                 list.data_ptr<std::int64_t>() + list.numel());
  }

  RestoreOutcome out;
  for (std::int64_t step : steps) {
    const fs::path path = fs::path(dir) / contract::StepDirName(step);
    const std::string where = (path / kManifestFile).string();
    Status bad;    // skip this checkpoint
    Status fatal;  // refuse to go on
    Manifest m;
    std::set<int> needed;
    StatusOr<std::string> text = ReadText(path / kManifestFile);
    if (!text.ok()) {
      bad = text.status();
    } else {
      StatusOr<Manifest> parsed = ParseManifest(*text, where);
      if (!parsed.ok()) {
        bad = parsed.status();
      } else {
        m = std::move(parsed).value();
        fatal = CheckSameModel(m, model_hash, engine, path.string());
        if (fatal.ok()) {
          needed = NeededShards(m, engine);
          bad = VerifyShards(m, path, needed);
        }
      }
    }
    at::Tensor verdict = at::tensor(
        {std::int64_t{bad.ok() ? 0 : 1}, std::int64_t{fatal.ok() ? 0 : 1}},
        kI64);
    {
      ScopedMemoryCategory category(MemoryCategory::kComm);
      DSTRAIN_RETURN_IF_ERROR(AllReduceMax(comm, device, verdict));
    }
    const std::int64_t* v = verdict.data_ptr<std::int64_t>();
    if (v[1] != 0) {
      if (!fatal.ok()) return fatal;
      return FailedPrecondition(path.string() + " was refused by another rank");
    }
    if (v[0] != 0) {
      if (!bad.ok() && warn) {
        warn("skipping checkpoint " + path.string() + ": " + bad.message());
      }
      continue;
    }
    DSTRAIN_RETURN_IF_ERROR(Load(m, path, needed, engine, &out.rng_restored));
    engine.RefreshParameters();
    out.found = true;
    out.path = path.string();
    out.manifest = std::move(m);
    return out;
  }
  return out;
}

void RemoveLeftovers(const std::string& dir, const MessageFn& note) {
  for (const std::string& name : contract::ListLeftovers(dir)) {
    const Status removed = RemoveTree((fs::path(dir) / name).string());
    if (note) {
      note("removed " + (fs::path(dir) / name).string() +
           ", an unfinished checkpoint" +
           (removed.ok() ? "" : " (failed: " + removed.message() + ")"));
    }
  }
}

}  // namespace dstrain::checkpoint
