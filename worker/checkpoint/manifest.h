#pragma once
// A checkpoint's manifest: everything needed to check and load the shards
// of one checkpoint directory (docs/engine.md, "Checkpoints"). Rank 0 writes
// it last, into the temporary directory, after every rank's shard is on
// disk; its presence in `step-<N>/` is what makes a checkpoint complete.
//
// Text, one record per line, `key value...`, in this order:
//
//   dstrain-checkpoint 1                  format version
//   job charlm                            the job's name (rest of the line)
//   model_hash 5d2f...                    ModelHash() of the model config
//   step 30                               optimizer steps done (1-based last)
//   data_position 480                     next global sample index
//   global_batch 16                       sequences per step when saved
//   world_size 4
//   zero_stage 3
//   attempt 0
//   optimizer_step 30                     AdamW's step count (skips excluded)
//   loss_scaler none | loss_scaler v1 ... (amp/loss_scaler_state.h)
//   units 2
//   unit root numel=N decay_numel=D padded=P shard=S
//   param tok_emb.weight shape=256x32 offset=0     (numel order, per unit)
//   ...
//   shards 4
//   shard 0 file=shard-0-of-4.bin bytes=B crc32c=0x... rng_bytes=R
//   ...
//   crc32c 0x...                          CRC-32C of every byte above
//
// Parse checks every line (a truncated or edited manifest is an error) and
// names `where:line`. Pure; no torch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/job_config.h"
#include "common/contract/checkpoint_dir.h"
#include "common/status.h"
#include "worker/amp/loss_scaler_state.h"

namespace dstrain::checkpoint {

inline constexpr int kFormatVersion = 1;
using contract::kManifestFile;

struct ManifestParam {
  std::string name;
  std::vector<std::int64_t> shape;
  std::int64_t offset = 0;  // in the unit's flat buffer; world-independent
  friend bool operator==(const ManifestParam&, const ManifestParam&) = default;
};

struct ManifestUnit {
  std::string name;
  std::int64_t numel = 0;
  std::int64_t decay_numel = 0;
  std::int64_t padded_numel = 0;  // for the saving world
  std::int64_t shard_numel = 0;   // padded_numel / world_size
  std::vector<ManifestParam> params;
  friend bool operator==(const ManifestUnit&, const ManifestUnit&) = default;
};

struct ManifestShard {
  int rank = 0;
  std::string file;  // name inside the checkpoint directory
  std::int64_t bytes = 0;
  std::uint32_t crc32c = 0;
  std::int64_t rng_bytes = 0;  // the rank's generator state, in the shard
  friend bool operator==(const ManifestShard&, const ManifestShard&) = default;
};

struct Manifest {
  int format_version = kFormatVersion;
  std::string job_name;
  std::string model_hash;
  std::int64_t step = 0;
  std::int64_t data_position = 0;
  std::int64_t global_batch = 0;
  int world_size = 1;
  int zero_stage = 0;
  int attempt = 0;
  std::int64_t optimizer_step = 0;
  // The loss scaler's state when the run had one (fp16); nullopt otherwise.
  std::optional<amp::LossScalerState> loss_scaler;
  std::vector<ManifestUnit> units;
  std::vector<ManifestShard> shards;  // by rank, world_size of them
  friend bool operator==(const Manifest&, const Manifest&) = default;
};

std::string SerializeManifest(const Manifest& m);

// `where` names the file in errors ("ckpt/step-30/manifest.txt").
StatusOr<Manifest> ParseManifest(std::string_view text,
                                 const std::string& where);

// FNV-1a 64 (16 hex digits) of the model fields that decide the parameters'
// names and shapes (type, vocab, layers, d_model, heads, seq_len, d_ff):
// a checkpoint loads only into the same model.
std::string ModelHash(const config::ModelConfig& model);

// The shard file of `rank` in a world of `world`: "shard-<r>-of-<W>.bin".
std::string ShardFileName(int rank, int world);

}  // namespace dstrain::checkpoint
