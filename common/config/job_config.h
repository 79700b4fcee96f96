#pragma once
// The job file (configs/README.md) as plain structs. Every field has the
// default a job gets when the key is absent; configs/README.md documents each
// one. Loading and validation live in job_config_loader.h; this header has no
// dependencies so the training engine can include it.

#include <cstdint>
#include <string>
#include <vector>

namespace dstrain::config {

enum class Device { kCpu, kCuda };
enum class Backend { kAuto, kNccl, kGloo, kMpi };
enum class AmpDtype { kOff, kFp16, kBf16 };

struct NodesConfig {
  int min = 1;
  int max = 1;
};

struct TopologyConfig {
  std::string cluster;             // path to a cluster description; "" = local
  std::string algorithm = "auto";  // auto | ring | tree | hierarchical | torus
};

struct ModelConfig {
  std::string type = "gpt";  // gpt
  int vocab = 256;
  int layers = 4;
  int d_model = 128;
  int heads = 4;
  int seq_len = 128;
  int d_ff = 0;  // 0 = 4 * d_model
  double dropout = 0.0;
};

struct DataConfig {
  // text: bytes of a file, or of every file in a folder; tokens: flat
  // uint16/uint32 token files (a glob for several shards); hdf5: chunked
  // HDF5 datasets of token ids; synthetic: generated (benchmarks).
  std::string type = "text";
  // required but for synthetic; relative paths (and globs) are relative to
  // the job file
  std::string path;
  int prefetch = 2;  // batches prepared ahead by a background thread
  // tokens, hdf5: threads per rank reading blocks of the data ahead, so
  // the storage has that many reads in flight (0: read when needed).
  int read_threads = 4;
  // tokens: the files' element type when no <file>.json sidecar says it
  // ("auto": the sidecar's).
  std::string dtype = "auto";
  // hdf5: the dataset(s) in each file, comma-separated.
  std::string dataset = "tokens";
  // synthetic: tokens in the generated stream.
  std::int64_t synthetic_tokens = std::int64_t{1} << 24;
  // Sampling: an epoch permutes blocks of about `shuffle_block` tokens
  // and, within each group of `shuffle_group` blocks, their windows, so a
  // rank reads large runs of the data (worker/data/sampler.h).
  int shuffle_block = 1 << 18;
  int shuffle_group = 16;
};

struct OptimizerConfig {
  std::string type = "adamw";  // adamw
  double lr = 3.0e-3;
  double beta1 = 0.9;  // `betas: [b1, b2]` in YAML
  double beta2 = 0.95;
  double eps = 1.0e-8;
  double weight_decay = 0.1;
};

struct ScheduleConfig {
  std::string type = "cosine";  // cosine | constant | linear
  int warmup_steps = 0;
  double min_lr_ratio = 0.1;  // final lr = lr * min_lr_ratio
};

struct TrainConfig {
  int steps = 100;
  int micro_batch = 8;  // sequences per rank per micro-step
  int grad_accum = 1;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  double clip_grad_norm = 1.0;  // 0 = off
  std::uint64_t seed = 1234;
  // Every rank prints a step line to its output every N steps (what
  // `dstrain logs` shows of each rank); 0 = off.
  int log_every = 0;
};

struct ZeroConfig {
  int stage = 0;
  int prefetch = 1;
  bool reshard_after_forward = true;
};

struct AmpConfig {
  AmpDtype dtype = AmpDtype::kOff;
};

struct RecomputeConfig {
  bool enabled = false;
};

struct CheckpointConfig {
  std::string dir;      // "" = <run dir>/ckpt
  int every_steps = 0;  // 0 = never
  int keep = 3;
  bool async = false;  // write shards on a thread while training goes on
  // Also save after the last step when every_steps is on (as DeepSpeed and
  // the Hugging Face trainer do), so the trained model is never lost.
  bool save_final = true;
};

struct FaultToleranceConfig {
  int max_restarts = 0;
  double heartbeat_s = 1.0;
  // A coordinator declares a hang after this long without progress; the
  // workers' own collective and rendezvous timeout, the backstop where no
  // coordinator watches, is twice as long (collective_timeout_s).
  double hang_timeout_s = 30.0;
  double collective_timeout_s() const { return 2 * hang_timeout_s; }
  // A rank whose own work per step (step time less its waits for
  // collectives and data) stays above this factor of the job's median for
  // two windows of straggler_window_steps is reported; 0: not watched.
  double straggler_factor = 1.5;
  int straggler_window_steps = 20;
};

struct BindingConfig {
  std::string numa = "auto";  // auto | none
};

struct JobConfig {
  std::string name;
  NodesConfig nodes;
  int procs_per_node = 1;
  // Order in a coordinator's queue: higher first, then submission order.
  int priority = 0;
  int threads_per_proc = 1;  // intra-op threads per rank
  // Write the step metrics as TensorBoard event files into the run
  // directory's tensorboard/ (dstrain launch).
  bool tensorboard = false;
  Device device = Device::kCpu;
  Backend backend = Backend::kAuto;
  TopologyConfig topology;
  ModelConfig model;
  DataConfig data;
  TrainConfig train;
  ZeroConfig zero;
  AmpConfig amp;
  RecomputeConfig recompute;
  CheckpointConfig checkpoint;
  FaultToleranceConfig fault_tolerance;
  BindingConfig binding;

  // Where the job came from: absolute path of the file (or a label such as
  // "<string>"). Relative paths inside the job resolve against its folder.
  std::string source_path;
};

const char* DeviceName(Device d);
const char* BackendName(Backend b);
const char* AmpDtypeName(AmpDtype a);

}  // namespace dstrain::config
