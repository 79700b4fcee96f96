#pragma once
// Saving and loading a ZeRO engine's sharded state (docs/engine.md,
// "Checkpoints"; formats in manifest.h, shard_file.h, checkpoint_dir.h).
//
// Both calls are collectives over `comm`: every rank of the engine's group
// calls them at the same point, from its training thread, and they issue
// the same collectives in the same order everywhere. Every rank must see
// the same checkpoint directory (one host, or a shared file system).
//
// Save: each rank writes its slice of every unit (fp32 master and the two
// AdamW moments) and its generator states (CPU, and on cuda its GPU's) into
// `<dir>/step-<N>.tmp-<attempt>/shard-<r>-of-<W>.bin`; an all-gather brings
// every shard's size and CRC-32C to rank 0, which writes the manifest,
// renames the directory to `step-<N>` and removes all but the newest `keep`
// checkpoints; a last all-reduce tells every rank it is complete. If any
// rank fails to write, nothing is renamed and every rank gets the error.
//
// Restore: the newest `step-<N>` whose manifest parses and whose shard files
// (the ones each rank needs) have the size and checksum the manifest says;
// a bad one is named in one warning line and the next older one tried.
// Each rank reads only the slices that overlap its own part of each unit
// (any world size, any ZeRO stage: a different W or stage reshards), then
// the engine's parameters follow (RefreshParameters). The generator state
// is restored only when the world size is unchanged (rank r continues rank
// r's stream). A checkpoint of another model (manifest.h's ModelHash, unit
// layout) is an error, not skipped.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/amp/loss_scaler_state.h"
#include "worker/checkpoint/manifest.h"
#include "worker/comm/communicator.h"
#include "worker/zero/zero_engine.h"

namespace dstrain::checkpoint {

using MessageFn = std::function<void(const std::string&)>;

struct SaveRequest {
  std::string dir;
  std::string job_name;
  std::string model_hash;
  std::int64_t step = 0;           // optimizer steps done
  std::int64_t data_position = 0;  // next global sample index
  std::int64_t global_batch = 0;
  int attempt = 0;
  int keep = 3;
  // Hook for AMP: the loss scaler's state, when the run has a scaler.
  std::optional<amp::LossScalerState> loss_scaler;
  // The optimizer's step count at the snapshot (PublishCheckpoint;
  // SaveCheckpoint fills it in).
  std::int64_t optimizer_step = 0;
};

struct SaveOutcome {
  std::string path;        // the complete checkpoint directory
  std::int64_t bytes = 0;  // of every shard together
};

// The whole save, on the calling thread: TakeShardSnapshot (no copy on
// cpu), WriteShardSnapshot, PublishCheckpoint.
StatusOr<SaveOutcome> SaveCheckpoint(const SaveRequest& request,
                                     zero::ZeroEngine& engine,
                                     comm::Communicator& comm);

// The parts of a save, for checkpoint.async (train_checkpoints.h): the
// snapshot on the training thread, the file on a writer thread while
// training goes on, the publication (a collective) on the training thread
// again, at the same step on every rank.

// A rank's share at one step on the host, in shard-file order: each unit's
// owned slice of the fp32 master weights, exp_avg and exp_avg_sq; its
// generator states; the optimizer step. `copy` clones CPU state (which
// the next optimizer step would overwrite); GPU state is always copied.
struct ShardSnapshot {
  int rank = 0;
  int world = 1;
  std::vector<at::Tensor> pieces;  // host fp32, contiguous
  std::string rng;
  std::int64_t optimizer_step = 0;
};
ShardSnapshot TakeShardSnapshot(zero::ZeroEngine& engine, bool copy);

struct ShardWrite {
  Status status;  // the error names the file
  std::int64_t bytes = 0;
  std::uint32_t crc32c = 0;
  std::int64_t rng_bytes = 0;
};
// File I/O only (no collectives, no engine): safe on any thread. Writes
// `<dir>/step-<step>.tmp-<attempt>/shard-<r>-of-<W>.bin`.
ShardWrite WriteShardSnapshot(const std::string& dir, std::int64_t step,
                              int attempt, const ShardSnapshot& snap);

// Collective: every rank reports its write; when all succeeded rank 0
// writes the manifest and renames the directory; every rank gets the
// outcome.
StatusOr<SaveOutcome> PublishCheckpoint(const SaveRequest& request,
                                        const ShardWrite& wrote,
                                        zero::ZeroEngine& engine,
                                        comm::Communicator& comm);

// Collective: true when `mine` holds on every rank (one small all-reduce).
StatusOr<bool> EveryRank(bool mine, zero::ZeroEngine& engine,
                         comm::Communicator& comm);

struct RestoreOutcome {
  bool found = false;  // false: no usable checkpoint, nothing changed
  std::string path;
  Manifest manifest;
  bool rng_restored = false;
};

// `warn` gets one line per skipped checkpoint (from the ranks that found
// the problem). Fails on I/O errors while loading a verified checkpoint
// and on a checkpoint of another model.
StatusOr<RestoreOutcome> RestoreNewest(const std::string& dir,
                                       const std::string& model_hash,
                                       zero::ZeroEngine& engine,
                                       comm::Communicator& comm,
                                       const MessageFn& warn);

// Rank 0, before training: removes the `.tmp-*`/`.old-*` directories a
// crash left in `dir` (each named through `note`).
void RemoveLeftovers(const std::string& dir, const MessageFn& note);

}  // namespace dstrain::checkpoint
