#pragma once
// One rank's shard file: raw bytes, host (little-endian) order. Pure; no
// torch.
//
//   offset 0   "DSTSHRD1"                     magic, 8 bytes
//          8   int32 rank, int32 world        who wrote it
//         16   int64 rng_bytes                R
//         24   R bytes                        the rank's CPU generator state
//     24 + R   per unit u, in manifest order:
//                float32 master[S_u], exp_avg[S_u], exp_avg_sq[S_u]
//
// S_u is the unit's shard size for the saving world (the manifest's
// `shard=`): the rank's slice [rank·S_u, (rank+1)·S_u) of the unit's padded
// buffer, whatever the ZeRO stage (stage 0 ranks write their slice of the
// full state they all hold, so a stage-0 checkpoint costs no more disk than
// a stage-3 one). A loader reads any element with one pread at
// TensorOffset(); the manifest's byte count and CRC-32C cover the file.

#include <cstdint>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "common/status.h"
#include "common/unique_fd.h"

namespace dstrain::checkpoint {

inline constexpr std::int64_t kShardHeaderBytes = 24;

// Which of a unit's three tensors.
enum class ShardTensor { kMaster = 0, kExpAvg = 1, kExpAvgSq = 2 };

// Byte offset of `which` of unit `unit` in a shard whose units have
// `shard_numels` elements each.
std::int64_t TensorOffset(const std::vector<std::int64_t>& shard_numels,
                          std::int64_t rng_bytes, int unit, ShardTensor which);
// The whole file's size.
std::int64_t ShardFileBytes(const std::vector<std::int64_t>& shard_numels,
                            std::int64_t rng_bytes);

// Writes a shard front to back, checksumming as it goes. Not thread-safe.
class ShardWriter {
 public:
  // Creates (truncates) `path` and writes the header and `rng`.
  static StatusOr<ShardWriter> Create(const std::string& path, int rank,
                                      int world, const std::string& rng);
  ShardWriter(ShardWriter&& o) noexcept = default;
  ShardWriter& operator=(ShardWriter&&) = delete;

  Status Append(const void* data, std::int64_t bytes);
  // Flushes to disk (fsync) and closes. `bytes`/`crc32c` describe the file.
  Status Finish();
  std::int64_t bytes() const { return bytes_; }
  std::uint32_t crc32c() const { return crc_.value(); }

 private:
  ShardWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
  std::int64_t bytes_ = 0;
  Crc32c crc_;
};

// Reads pieces of a shard. Not thread-safe.
class ShardReader {
 public:
  static StatusOr<ShardReader> Open(const std::string& path);
  ShardReader(ShardReader&& o) noexcept = default;
  ShardReader& operator=(ShardReader&&) = delete;

  // Exactly `bytes` bytes at `offset`; a short file is DATA_LOSS-like
  // INTERNAL naming the file.
  Status ReadAt(std::int64_t offset, void* out, std::int64_t bytes) const;
  // The header's fields, checked against what the manifest says.
  Status CheckHeader(int rank, int world, std::int64_t rng_bytes) const;
  StatusOr<std::string> ReadRng(std::int64_t rng_bytes) const;

 private:
  ShardReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

// Reads the whole file: OK when its size is `bytes` and its CRC-32C is
// `crc32c`; otherwise an error whose message names the file and says
// "truncated" (or too long) or "checksum mismatch".
Status VerifyFile(const std::string& path, std::int64_t bytes,
                  std::uint32_t crc32c);

// Writes `text` to `path` and fsyncs it.
Status WriteFileSynced(const std::string& path, const std::string& text);
// fsync of a directory, so a rename in it is durable.
Status SyncDirectory(const std::string& path);

// Removes `path` and everything under it (symlinks are removed, not
// followed); a missing path is OK. Not std::filesystem::remove_all: in a
// process that loads libtorch that call can bind to libtorch's own copy of
// std::filesystem, which crashes.
Status RemoveTree(const std::string& path);

}  // namespace dstrain::checkpoint
