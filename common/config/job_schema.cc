#include "common/config/job_schema.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "common/yaml/suggest.h"

namespace dstrain::config::schema {
namespace {

using K = FieldKind;
using V = FieldValue;
using C = JobConfig;

constexpr double kIntMax = 2147483647.0;

// The setter and getter of a JobConfig member that a FieldValue carries in
// `slot` (i, u, d, b or s): `MEMBER(i, nodes.min)`.
#define MEMBER(slot, member)                                       \
  [](C& c, const V& v) { c.member = decltype(c.member)(v.slot); }, \
      [](const C& c) {                                             \
        V v;                                                       \
        v.slot = static_cast<decltype(v.slot)>(c.member);          \
        return v;                                                  \
      }

Field Make(std::string path, K kind, void (*set)(C&, const V&),
           V (*get)(const C&)) {
  Field f;
  f.path = std::move(path);
  f.kind = kind;
  f.set = set;
  f.get = get;
  return f;
}

Field Int(std::string path, double lo, std::optional<double> hi,
          void (*set)(C&, const V&), V (*get)(const C&)) {
  Field f = Make(std::move(path), K::kInt, set, get);
  f.lo = lo;
  f.hi = hi;
  return f;
}

Field Num(std::string path, double lo, bool lo_open, std::optional<double> hi,
          bool hi_open, void (*set)(C&, const V&), V (*get)(const C&)) {
  Field f = Make(std::move(path), K::kDouble, set, get);
  f.lo = lo;
  f.lo_open = lo_open;
  f.hi = hi;
  f.hi_open = hi_open;
  return f;
}

Field Enum(std::string path, std::vector<std::string> choices,
           void (*set)(C&, const V&), V (*get)(const C&)) {
  Field f = Make(std::move(path), K::kEnum, set, get);
  f.choices = std::move(choices);
  return f;
}

Field Required(Field f) {
  f.required = true;
  return f;
}

std::vector<Field> BuildFields() {
  std::vector<Field> f;
  f.push_back(Required(Make("name", K::kString, MEMBER(s, name))));
  f.push_back(Int("nodes.min", 1, std::nullopt, MEMBER(i, nodes.min)));
  f.push_back(Int("nodes.max", 1, std::nullopt, MEMBER(i, nodes.max)));
  f.push_back(Int("procs_per_node", 1, 1024, MEMBER(i, procs_per_node)));
  f.push_back(Int("priority", -1000000, 1000000, MEMBER(i, priority)));
  f.push_back(Int("threads_per_proc", 1, 1024, MEMBER(i, threads_per_proc)));
  f.push_back(Make("tensorboard", K::kBool, MEMBER(b, tensorboard)));
  f.push_back(Enum("device", {"cpu", "cuda"}, MEMBER(i, device)));
  f.push_back(
      Enum("backend", {"auto", "nccl", "gloo", "mpi"}, MEMBER(i, backend)));
  f.push_back(Make("topology.cluster", K::kPath, MEMBER(s, topology.cluster)));
  f.push_back(Enum("topology.algorithm",
                   {"auto", "ring", "tree", "hierarchical", "torus"},
                   MEMBER(s, topology.algorithm)));
  f.push_back(Enum("model.type", {"gpt"}, MEMBER(s, model.type)));
  f.push_back(Int("model.vocab", 2, std::nullopt, MEMBER(i, model.vocab)));
  f.push_back(Int("model.layers", 1, std::nullopt, MEMBER(i, model.layers)));
  f.push_back(Int("model.d_model", 1, std::nullopt, MEMBER(i, model.d_model)));
  f.push_back(Int("model.heads", 1, std::nullopt, MEMBER(i, model.heads)));
  f.push_back(Int("model.seq_len", 1, std::nullopt, MEMBER(i, model.seq_len)));
  f.push_back(Int("model.d_ff", 0, std::nullopt, MEMBER(i, model.d_ff)));
  f.push_back(
      Num("model.dropout", 0, false, 1, true, MEMBER(d, model.dropout)));
  f.push_back(Enum("data.type", {"text", "tokens", "hdf5", "synthetic"},
                   MEMBER(s, data.type)));
  f.push_back(Required(Make("data.path", K::kPath, MEMBER(s, data.path))));
  f.push_back(Int("data.prefetch", 0, std::nullopt, MEMBER(i, data.prefetch)));
  f.push_back(Int("data.read_threads", 0, 64, MEMBER(i, data.read_threads)));
  f.push_back(
      Enum("data.dtype", {"auto", "uint16", "uint32"}, MEMBER(s, data.dtype)));
  f.push_back(Make("data.dataset", K::kString, MEMBER(s, data.dataset)));
  f.push_back(
      Int("data.synthetic_tokens", 2, 1e15, MEMBER(i, data.synthetic_tokens)));
  f.push_back(
      Int("data.shuffle_block", 1, 1 << 30, MEMBER(i, data.shuffle_block)));
  f.push_back(
      Int("data.shuffle_group", 1, 4096, MEMBER(i, data.shuffle_group)));
  f.push_back(Int("train.steps", 1, std::nullopt, MEMBER(i, train.steps)));
  f.push_back(
      Int("train.micro_batch", 1, std::nullopt, MEMBER(i, train.micro_batch)));
  f.push_back(
      Int("train.grad_accum", 1, std::nullopt, MEMBER(i, train.grad_accum)));
  f.push_back(
      Enum("train.optimizer.type", {"adamw"}, MEMBER(s, train.optimizer.type)));
  f.push_back(Num("train.optimizer.lr", 0, true, std::nullopt, false,
                  MEMBER(d, train.optimizer.lr)));
  {
    Field betas = Make(
        "train.optimizer.betas", K::kPair,
        [](C& c, const V& v) {
          c.train.optimizer.beta1 = v.pair[0];
          c.train.optimizer.beta2 = v.pair[1];
        },
        [](const C& c) {
          V v;
          v.pair[0] = c.train.optimizer.beta1;
          v.pair[1] = c.train.optimizer.beta2;
          return v;
        });
    betas.lo = 0;
    betas.hi = 1;
    betas.hi_open = true;
    f.push_back(betas);
  }
  f.push_back(Num("train.optimizer.eps", 0, true, std::nullopt, false,
                  MEMBER(d, train.optimizer.eps)));
  f.push_back(Num("train.optimizer.weight_decay", 0, false, std::nullopt, false,
                  MEMBER(d, train.optimizer.weight_decay)));
  f.push_back(Enum("train.schedule.type", {"cosine", "constant", "linear"},
                   MEMBER(s, train.schedule.type)));
  f.push_back(Int("train.schedule.warmup_steps", 0, std::nullopt,
                  MEMBER(i, train.schedule.warmup_steps)));
  f.push_back(Num("train.schedule.min_lr_ratio", 0, false, 1, false,
                  MEMBER(d, train.schedule.min_lr_ratio)));
  f.push_back(Num("train.clip_grad_norm", 0, false, std::nullopt, false,
                  MEMBER(d, train.clip_grad_norm)));
  f.push_back(Make("train.seed", K::kUint64, MEMBER(u, train.seed)));
  f.push_back(
      Int("train.log_every", 0, std::nullopt, MEMBER(i, train.log_every)));
  f.push_back(Int("zero.stage", 0, 3, MEMBER(i, zero.stage)));
  f.push_back(Int("zero.prefetch", 0, std::nullopt, MEMBER(i, zero.prefetch)));
  f.push_back(Make("zero.reshard_after_forward", K::kBool,
                   MEMBER(b, zero.reshard_after_forward)));
  f.push_back(Enum("amp.dtype", {"off", "fp16", "bf16"}, MEMBER(i, amp.dtype)));
  f.push_back(
      Make("recompute.enabled", K::kBool, MEMBER(b, recompute.enabled)));
  f.push_back(Make("checkpoint.dir", K::kString, MEMBER(s, checkpoint.dir)));
  f.push_back(Int("checkpoint.every_steps", 0, std::nullopt,
                  MEMBER(i, checkpoint.every_steps)));
  f.push_back(
      Int("checkpoint.keep", 1, std::nullopt, MEMBER(i, checkpoint.keep)));
  f.push_back(Make("checkpoint.async", K::kBool, MEMBER(b, checkpoint.async)));
  f.push_back(Make("checkpoint.save_final", K::kBool,
                   MEMBER(b, checkpoint.save_final)));
  f.push_back(Int("fault_tolerance.max_restarts", 0, std::nullopt,
                  MEMBER(i, fault_tolerance.max_restarts)));
  f.push_back(Num("fault_tolerance.heartbeat_s", 0, true, std::nullopt, false,
                  MEMBER(d, fault_tolerance.heartbeat_s)));
  f.push_back(Num("fault_tolerance.hang_timeout_s", 0, true, std::nullopt,
                  false, MEMBER(d, fault_tolerance.hang_timeout_s)));
  f.push_back(Num("fault_tolerance.straggler_factor", 0, false, 100, false,
                  MEMBER(d, fault_tolerance.straggler_factor)));
  f.push_back(Int("fault_tolerance.straggler_window_steps", 2, std::nullopt,
                  MEMBER(i, fault_tolerance.straggler_window_steps)));
  f.push_back(Enum("binding.numa", {"auto", "none"}, MEMBER(s, binding.numa)));
  // Every int field is capped at what an int holds.
  for (Field& field : f) {
    if (field.kind == K::kInt && !field.hi) field.hi = kIntMax;
  }
  return f;
}
#undef MEMBER

// Path lookups built once from Fields().
struct Index {
  std::map<std::string, const Field*, std::less<>> fields;
  std::map<std::string, std::vector<std::string>, std::less<>> children;
};

const Index& GetIndex() {
  static const Index* index = [] {
    auto* idx = new Index;
    idx->children[""];
    for (const Field& f : Fields()) {
      idx->fields[f.path] = &f;
      std::string parent;
      size_t start = 0;
      while (true) {
        const size_t dot = f.path.find('.', start);
        const std::string name = f.path.substr(
            start, dot == std::string::npos ? std::string::npos : dot - start);
        auto& kids = idx->children[parent];
        if (std::find(kids.begin(), kids.end(), name) == kids.end()) {
          kids.push_back(name);
        }
        if (dot == std::string::npos) break;
        parent = f.path.substr(0, dot);
        idx->children[parent];
        start = dot + 1;
      }
    }
    return idx;
  }();
  return *index;
}

std::string ParentOf(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string()
                                       : std::string(path.substr(0, dot));
}

std::string LastSegment(std::string_view path) {
  const size_t dot = path.rfind('.');
  return std::string(dot == std::string_view::npos ? path
                                                   : path.substr(dot + 1));
}

std::string FormatNumber(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

}  // namespace

const std::vector<Field>& Fields() {
  static const std::vector<Field>* fields =
      new std::vector<Field>(BuildFields());
  return *fields;
}

const Field* FindField(std::string_view path) {
  const Index& idx = GetIndex();
  auto it = idx.fields.find(path);
  return it == idx.fields.end() ? nullptr : it->second;
}

bool IsSection(std::string_view path) {
  const Index& idx = GetIndex();
  return idx.children.find(path) != idx.children.end() &&
         idx.fields.find(path) == idx.fields.end();
}

const std::vector<std::string>& ChildKeys(std::string_view section) {
  static const std::vector<std::string> kNone;
  const Index& idx = GetIndex();
  auto it = idx.children.find(section);
  return it == idx.children.end() ? kNone : it->second;
}

const std::vector<std::pair<std::string, std::string>>& KeyAliases() {
  static const auto* aliases =
      new std::vector<std::pair<std::string, std::string>>{
          // Job identity and shape (torchrun, Slurm, HF Trainer).
          {"job_name", "name"},
          {"run_name", "name"},
          {"experiment_name", "name"},
          {"nnodes", "nodes"},
          {"num_nodes", "nodes"},
          {"min_nodes", "nodes.min"},
          {"max_nodes", "nodes.max"},
          {"nproc_per_node", "procs_per_node"},
          {"nprocs_per_node", "procs_per_node"},
          {"ntasks_per_node", "procs_per_node"},
          {"gpus_per_node", "procs_per_node"},
          {"nice", "priority"},
          {"num_gpus", "procs_per_node"},
          {"local_world_size", "procs_per_node"},
          {"ranks_per_node", "procs_per_node"},
          {"num_threads", "threads_per_proc"},
          {"omp_num_threads", "threads_per_proc"},
          {"intra_op_threads", "threads_per_proc"},
          {"cpus_per_task", "threads_per_proc"},
          {"dist_backend", "backend"},
          {"distributed_backend", "backend"},
          // Model (nanoGPT, Hugging Face configs, Megatron).
          {"n_layer", "model.layers"},
          {"n_layers", "model.layers"},
          {"num_layers", "model.layers"},
          {"num_hidden_layers", "model.layers"},
          {"depth", "model.layers"},
          {"n_embd", "model.d_model"},
          {"n_embed", "model.d_model"},
          {"hidden_size", "model.d_model"},
          {"embed_dim", "model.d_model"},
          {"hidden_dim", "model.d_model"},
          {"dim", "model.d_model"},
          {"width", "model.d_model"},
          {"n_head", "model.heads"},
          {"n_heads", "model.heads"},
          {"num_heads", "model.heads"},
          {"num_attention_heads", "model.heads"},
          {"block_size", "model.seq_len"},
          {"seq_length", "model.seq_len"},
          {"max_seq_len", "model.seq_len"},
          {"sequence_length", "model.seq_len"},
          {"context_length", "model.seq_len"},
          {"max_position_embeddings", "model.seq_len"},
          {"n_ctx", "model.seq_len"},
          {"n_positions", "model.seq_len"},
          {"vocab_size", "model.vocab"},
          {"n_vocab", "model.vocab"},
          {"intermediate_size", "model.d_ff"},
          {"ffn_hidden_size", "model.d_ff"},
          {"dim_feedforward", "model.d_ff"},
          {"ffn_dim", "model.d_ff"},
          {"dropout_rate", "model.dropout"},
          {"resid_pdrop", "model.dropout"},
          {"hidden_dropout", "model.dropout"},
          // Data.
          {"dataset", "data"},
          {"data_path", "data.path"},
          {"data_dir", "data.path"},
          {"dataset_path", "data.path"},
          {"train_data", "data.path"},
          {"file", "data.path"},
          {"num_workers", "data.read_threads"},
          {"prefetch_factor", "data.prefetch"},
          // Training loop (HF Trainer, DeepSpeed, nanoGPT, Lightning).
          {"max_steps", "train.steps"},
          {"num_steps", "train.steps"},
          {"total_steps", "train.steps"},
          {"train_steps", "train.steps"},
          {"iters", "train.steps"},
          {"max_iters", "train.steps"},
          {"train_iters", "train.steps"},
          {"iterations", "train.steps"},
          {"batch_size", "train.micro_batch"},
          {"micro_batch_size", "train.micro_batch"},
          {"train_micro_batch_size_per_gpu", "train.micro_batch"},
          {"per_device_train_batch_size", "train.micro_batch"},
          {"gradient_accumulation_steps", "train.grad_accum"},
          {"grad_accum_steps", "train.grad_accum"},
          {"accumulate_grad_batches", "train.grad_accum"},
          {"grad_clip", "train.clip_grad_norm"},
          {"max_grad_norm", "train.clip_grad_norm"},
          {"gradient_clipping", "train.clip_grad_norm"},
          {"clip_grad", "train.clip_grad_norm"},
          {"clip_norm", "train.clip_grad_norm"},
          {"random_seed", "train.seed"},
          {"manual_seed", "train.seed"},
          {"optim", "train.optimizer"},
          {"learning_rate", "train.optimizer.lr"},
          {"base_lr", "train.optimizer.lr"},
          {"max_lr", "train.optimizer.lr"},
          {"beta1", "train.optimizer.betas"},
          {"beta2", "train.optimizer.betas"},
          {"adam_beta1", "train.optimizer.betas"},
          {"adam_beta2", "train.optimizer.betas"},
          {"adam_epsilon", "train.optimizer.eps"},
          {"adam_eps", "train.optimizer.eps"},
          {"epsilon", "train.optimizer.eps"},
          {"wd", "train.optimizer.weight_decay"},
          {"scheduler", "train.schedule"},
          {"lr_scheduler", "train.schedule"},
          {"lr_schedule", "train.schedule"},
          {"lr_scheduler_type", "train.schedule.type"},
          {"warmup", "train.schedule.warmup_steps"},
          {"warmup_iters", "train.schedule.warmup_steps"},
          {"num_warmup_steps", "train.schedule.warmup_steps"},
          {"lr_warmup_steps", "train.schedule.warmup_steps"},
          {"min_lr", "train.schedule.min_lr_ratio"},
          // Memory and precision (DeepSpeed, FSDP, HF).
          {"zero_optimization", "zero"},
          {"zero_stage", "zero.stage"},
          {"precision", "amp.dtype"},
          {"mixed_precision", "amp.dtype"},
          {"dtype", "amp.dtype"},
          {"fp16", "amp.dtype"},
          {"bf16", "amp.dtype"},
          {"activation_checkpointing", "recompute"},
          {"gradient_checkpointing", "recompute.enabled"},
          {"checkpoint_activations", "recompute.enabled"},
          // Checkpoints and fault tolerance.
          {"save_steps", "checkpoint.every_steps"},
          {"save_interval", "checkpoint.every_steps"},
          {"save_every", "checkpoint.every_steps"},
          {"checkpoint_interval", "checkpoint.every_steps"},
          {"output_dir", "checkpoint.dir"},
          {"save_dir", "checkpoint.dir"},
          {"checkpoint_dir", "checkpoint.dir"},
          {"ckpt_dir", "checkpoint.dir"},
          {"out_dir", "checkpoint.dir"},
          {"save_total_limit", "checkpoint.keep"},
          {"keep_last", "checkpoint.keep"},
          {"max_retries", "fault_tolerance.max_restarts"},
          {"heartbeat", "fault_tolerance.heartbeat_s"},
          {"heartbeat_interval", "fault_tolerance.heartbeat_s"},
          {"timeout", "fault_tolerance.hang_timeout_s"},
          {"numa", "binding.numa"},
          {"cpu_bind", "binding.numa"},
      };
  return *aliases;
}

std::string SuggestKey(std::string_view section, std::string_view key) {
  std::vector<yaml::Candidate> pool;
  // Tier 0: keys valid right here.
  for (const std::string& name : ChildKeys(section)) {
    pool.push_back({name, name, 0});
  }
  // Tiers 1 and 2: what people usually mean by a familiar foreign name.
  for (const auto& [alias, target] : KeyAliases()) {
    if (ParentOf(target) == section) {
      pool.push_back({alias, LastSegment(target), 1});
    } else {
      pool.push_back({alias, target, 2});
    }
  }
  // Tier 3: a valid key written at the wrong level.
  const Index& idx = GetIndex();
  for (const auto& [parent, kids] : idx.children) {
    if (parent == section) continue;
    for (const std::string& name : kids) {
      pool.push_back({name, parent.empty() ? name : parent + "." + name, 3});
    }
  }
  return yaml::ClosestMatch(key, pool).value_or("");
}

std::string KindText(const Field& f) {
  switch (f.kind) {
    case K::kInt:
      return "an integer";
    case K::kUint64:
      return "a non-negative integer";
    case K::kDouble:
      return "a number";
    case K::kBool:
      return "true or false";
    case K::kString:
      return "a string";
    case K::kPath:
      return "a path";
    case K::kPair:
      return "a list of two numbers";
    case K::kEnum: {
      std::string s = "one of ";
      for (size_t i = 0; i < f.choices.size(); ++i) {
        if (i > 0) s += " | ";
        s += f.choices[i];
      }
      return s;
    }
  }
  return "a value";
}

std::string RangeText(const Field& f) {
  const bool has_lo = f.lo.has_value();
  const bool has_hi =
      f.hi.has_value() && !(f.kind == K::kInt && *f.hi == kIntMax);
  if (has_lo && has_hi) {
    return "in " + std::string(f.lo_open ? "(" : "[") + FormatNumber(*f.lo) +
           ", " + FormatNumber(*f.hi) + (f.hi_open ? ")" : "]");
  }
  if (has_lo) return (f.lo_open ? "> " : ">= ") + FormatNumber(*f.lo);
  if (has_hi) return (f.hi_open ? "< " : "<= ") + FormatNumber(*f.hi);
  return "";
}

bool InRange(const Field& f, double x) {
  if (f.lo && (f.lo_open ? x <= *f.lo : x < *f.lo)) return false;
  if (f.hi && (f.hi_open ? x >= *f.hi : x > *f.hi)) return false;
  return true;
}

}  // namespace dstrain::config::schema
